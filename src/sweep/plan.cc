#include "sweep/plan.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/workload.h"
#include "sweep/constraints.h"
#include "sweep/dse_driver.h"
#include "sweep/field_decode.h"
#include "sweep/param_space.h"
#include "util/strings.h"
#include "util/text_table.h"

namespace bp {

namespace {

// GPUs of each point: a base value, or a per-value table of the axis that decides it.
struct GpuCounter {
  int axis = -1;
  std::vector<int64_t> per_value;
  int64_t base = 1;
  int64_t multiplier = 1;  // gpus_per_node for node-counted workloads

  int64_t of(const std::vector<uint32_t>& idx) const {
    return (axis >= 0 ? per_value[idx[axis]] : base) * multiplier;
  }
};

GpuCounter gpu_counter(const TestRun& run, const System& system, const ParamSpace& space) {
  GpuCounter g;
  const Workload* w = find_workload(run.test.test_template_name);
  GpuCountRule rule = w ? w->info().gpu_count : GpuCountRule{};
  if (!rule.field.empty()) {
    const std::string key_path = "cmd_args." + rule.field;
    g.axis = space.find_axis(rule.field);
    if (g.axis >= 0) {
      for (const Value& v : space.axes()[g.axis].values)
        g.per_value.push_back(decode_int(v, key_path));
    } else if (const Value* v = run.test.cmd_args.find_path(rule.field)) {
      g.base = decode_int(*v, key_path);
    } else {
      g.base = rule.default_value;
    }
    return g;
  }
  g.multiplier = system.gpus_per_node.value_or(1);
  g.axis = space.find_axis("NUM_NODES");
  if (g.axis >= 0)
    for (const Value& v : space.axes()[g.axis].values) g.per_value.push_back(v.as_int());
  else
    g.base = run.num_nodes.empty() ? 1 : run.num_nodes.front();
  return g;
}

std::string fixed1(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string pad(const std::string& s, size_t width, bool right) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

// Tallies the warning rules of the points that run (each loaded whole: pruned points in between
// are not walked here).
class WarningTally {
 public:
  WarningTally(const TestRun& run, const ParamSpace& space, const System& system)
      : rules_(compile_case_warnings(run, space, &system)), log_(space, rules_), ev_(rules_) {}
  WarningTally(const WarningTally&) = delete;
  WarningTally& operator=(const WarningTally&) = delete;

  void check(uint64_t point, const std::vector<uint32_t>& indices) {
    if (rules_.empty()) return;
    ev_.load(indices);
    if (uint64_t mask = ev_.violations()) log_.add(point, indices, mask, ev_);
  }
  void record_in(Plan& plan) const {
    plan.warned = log_.pruned();
    plan.warned_by_rule = log_.tallies();
  }

 private:
  CompiledConstraints rules_;
  PruneLog log_;
  CompiledConstraints::Evaluator ev_;
};

// GPUs per job summed over the valid points: all of them, and the first `cap` (what a grid
// search within its budget runs).
struct GpuSums {
  double all = 0, within_cap = 0;
};

// Walks every point of a sweep: pruned points go to the plan's pruned tallies, valid ones are
// counted with their GPUs and checked against the warning rules.
GpuSums walk_sweep(const TestRun& run, const System& system, const ParamSpace& space,
                   const GpuCounter& gpus, uint64_t cap, WarningTally& warnings, Plan& plan) {
  CompiledConstraints constraints = compile_case_constraints(run, space, &system);
  PruneLog log(space, constraints);
  CompiledConstraints::Evaluator ev(constraints);
  PointCursor cursor(space);
  plan.points = space.size();
  plan.valid = 0;
  plan.gpus_per_job_min = INT64_MAX;
  plan.gpus_per_job_max = 0;
  GpuSums sums;
  size_t changed = 0;
  while (cursor.next(changed)) {
    ev.update(cursor.indices(), changed);
    if (uint64_t mask = ev.violations()) {
      log.add(cursor.point(), cursor.indices(), mask, ev);
      continue;
    }
    warnings.check(cursor.point(), cursor.indices());
    int64_t g = gpus.of(cursor.indices());
    plan.gpus_per_job_min = std::min(plan.gpus_per_job_min, g);
    plan.gpus_per_job_max = std::max(plan.gpus_per_job_max, g);
    sums.all += static_cast<double>(g);
    if (plan.valid < cap) sums.within_cap += static_cast<double>(g);
    ++plan.valid;
  }
  if (plan.valid == 0) plan.gpus_per_job_min = 0;
  plan.pruned = log.pruned();
  plan.pruned_by_rule = log.tallies();
  return sums;
}

}  // namespace

std::optional<double> time_limit_hours(const std::string& time_limit) {
  std::string_view s = trim(time_limit);
  int64_t days = 0;
  if (size_t dash = s.find('-'); dash != std::string_view::npos) {
    auto r = std::from_chars(s.data(), s.data() + dash, days);
    if (r.ec != std::errc() || r.ptr != s.data() + dash) return std::nullopt;
    s = s.substr(dash + 1);
  }
  std::vector<std::string> parts = split(s, ':');
  if (parts.size() != 3) return std::nullopt;
  int64_t v[3];
  for (int i = 0; i < 3; ++i) {
    auto r = std::from_chars(parts[i].data(), parts[i].data() + parts[i].size(), v[i]);
    if (parts[i].empty() || r.ec != std::errc() || r.ptr != parts[i].data() + parts[i].size())
      return std::nullopt;
  }
  return days * 24.0 + v[0] + v[1] / 60.0 + v[2] / 3600.0;
}

Plan make_plan(const TestRun& run, const System& system) {
  Plan plan;
  plan.case_id = run.id;
  plan.workload = run.test.test_template_name;
  plan.iterations = std::max(1, run.iterations);
  plan.time_limit = run.time_limit;
  std::optional<double> hours;
  if (run.time_limit) hours = time_limit_hours(*run.time_limit);

  ParamSpace space = ParamSpace::of(run);
  GpuCounter gpus = gpu_counter(run, system, space);
  plan.is_sweep = space.is_sweep();
  WarningTally warnings(run, space, system);
  if (!plan.is_sweep) {
    std::vector<uint32_t> none;
    warnings.check(0, none);
    warnings.record_in(plan);
    int64_t g = gpus.of(none);
    plan.gpus_per_job_min = plan.gpus_per_job_max = g;
    plan.jobs = static_cast<uint64_t>(plan.iterations);
    if (hours) plan.gpu_hours = static_cast<double>(g) * *hours * plan.iterations;
    return plan;
  }

  SweepSettings settings = read_sweep_settings(run);
  plan.agent = settings.agent;
  const bool grid = settings.agent == "grid_search";
  const uint64_t cap = settings.budget.value_or(UINT64_MAX);
  const GpuSums sums = walk_sweep(run, system, space, gpus, cap, warnings, plan);
  warnings.record_in(plan);

  const uint64_t per_iteration = std::min(plan.valid, cap);
  plan.jobs = per_iteration * static_cast<uint64_t>(plan.iterations);
  if (settings.budget) plan.budget_note = "agent_steps=" + std::to_string(*settings.budget);
  if (!grid && !run.test.agent_steps) plan.budget_note = "default budget " + std::to_string(cap);
  if (hours) {
    double gpu_jobs;
    if (grid) {
      gpu_jobs = sums.within_cap;
    } else {
      // The agent picks which valid points run: estimate with their mean size.
      gpu_jobs = plan.valid ? sums.all / static_cast<double>(plan.valid) * per_iteration : 0;
      plan.gpu_hours_estimated = per_iteration < plan.valid;
    }
    plan.gpu_hours = gpu_jobs * *hours * plan.iterations;
  }
  return plan;
}

std::string format_plan(const std::vector<Plan>& plans) {
  std::vector<std::vector<std::string>> rows = {{"case", "agent", "points", "valid", "pruned",
                                                 "jobs", "GPUs/job", "time limit", "GPU-hours"}};
  double total_hours = 0;
  uint64_t total_jobs = 0;
  std::vector<std::string> no_limit;
  for (const Plan& p : plans) {
    std::string g = std::to_string(p.gpus_per_job_min);
    if (p.gpus_per_job_max != p.gpus_per_job_min) g += "-" + std::to_string(p.gpus_per_job_max);
    std::string hours = "unknown";
    if (p.gpu_hours) {
      hours = (p.gpu_hours_estimated ? "~" : "") + fixed1(*p.gpu_hours);
      total_hours += *p.gpu_hours;
    } else {
      no_limit.push_back(p.case_id);
    }
    total_jobs += p.jobs;
    std::string agent = p.is_sweep ? p.agent : "-";
    if (!p.budget_note.empty()) agent += " (" + p.budget_note + ")";
    rows.push_back({p.case_id, agent, std::to_string(p.points), std::to_string(p.valid),
                    std::to_string(p.pruned), std::to_string(p.jobs), g, p.time_limit.value_or("-"),
                    hours});
  }
  TextTableStyle style;
  style.header_rule = TextTableStyle::HeaderRule::kNone;
  style.right_aligned_from = 2;  // the counts and hours
  std::string out = "Plan\n" + format_text_table(rows, style);
  for (const Plan& p : plans) {
    if (!p.pruned) continue;
    out += "\nPruned in " + p.case_id + " (" + std::to_string(p.pruned) + " of " +
           std::to_string(p.points) + " points; a point may break several rules):\n";
    size_t w = 0;
    for (const RuleTally& t : p.pruned_by_rule) w = std::max(w, t.id.size() + 1 + t.name.size());
    for (const RuleTally& t : p.pruned_by_rule) {
      out += "  " + pad(t.id + " " + t.name, w, false) + "  " +
             pad(std::to_string(t.count), 8, true) + "\n";
      for (const std::string& e : t.examples) out += "      e.g. " + e + "\n";
    }
  }
  for (const Plan& p : plans) {
    if (!p.warned) continue;
    out += "\nWarnings in " + p.case_id + " (" + std::to_string(p.warned) + " of " +
           std::to_string(p.valid) + " points run but:)\n";
    for (const RuleTally& t : p.warned_by_rule) {
      out += "  " + t.id + " " + t.name + "  " + std::to_string(t.count) + "\n";
      for (const std::string& e : t.examples) out += "      e.g. " + e + "\n";
    }
  }
  out += "\nTotal: " + std::to_string(total_jobs) + " jobs, " + fixed1(total_hours) + " GPU-hours";
  if (!no_limit.empty())
    out += " (unknown for cases without a time limit: " + join(no_limit, ", ") + ")";
  return out + "\n";
}

}  // namespace bp
