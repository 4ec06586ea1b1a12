#include "sweep/plan.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>

#include "core/estimate.h"
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

std::string memory_verdict_word(const MemoryVerdict& v) {
  if (v.over) return "over (warn)";
  return v.near_limit ? "near limit" : "fits";
}

// Estimates the points of a case that run, one at a time, and sums their predicted GPU-hours.
class PointCoster {
 public:
  PointCoster(const TestRun& run, const System& system, const ParamSpace& space,
              const Estimator& estimator, const PlanEstimation& estimation)
      : run_(run),
        system_(system),
        space_(space),
        estimator_(estimator),
        prepared_(estimator.for_case(run, system)),
        calibration_(estimation.calibration_runs, system.name),
        calibrate_(estimation.calibrate) {
    cost_.calibrated = estimation.calibrate;
  }
  PointCoster(const PointCoster&) = delete;
  PointCoster& operator=(const PointCoster&) = delete;

  void add(uint64_t step, const std::vector<uint32_t>& indices, int64_t gpus) {
    const Estimate e =
        prepared_ ? prepared_->at(indices)
                  : estimator_.estimate(
                        space_.is_sweep() ? apply_indices(run_, space_, indices) : run_, system_);
    PlannedPoint p;
    p.step = step;
    p.gpus = gpus;
    p.train_steps = e.train_steps;
    p.gpu_memory_gib = e.gpu_memory_gib;
    if (e.memory) p.memory_gib = e.memory->total();
    if (e.memory && e.gpu_memory_gib)
      p.memory_verdict =
          memory_verdict_word(judge_memory(*p.memory_gib, *e.gpu_memory_gib, run_.test.oom_rule));
    if (e.step_time_s) p.step_time_s = *e.step_time_s * calibrate(e);
    if (p.step_time_s && p.train_steps) {
      const double startup = e.startup_s.value_or(0);
      if (!cost_.startup_s) cost_.startup_s = startup;
      p.gpu_hours = predicted_job_gpu_hours(*p.train_steps, *p.step_time_s, startup, gpus);
      hours_ += *p.gpu_hours;
      ++cost_.estimated;
      p.past_time_limit = limit_hours_ && *p.gpu_hours / static_cast<double>(gpus) > *limit_hours_;
      cost_.past_time_limit += p.past_time_limit;
    } else {
      ++cost_.not_estimated;
    }
    if (cost_.shown.size() >= kShownPlannedPoints) {
      ++cost_.not_shown;
      return;
    }
    std::vector<std::string> words;
    for (const auto& [name, value] : space_.action_of(indices))
      words.push_back(name + "=" + value.to_plain_string());
    p.values = join(words, " ");
    cost_.shown.push_back(std::move(p));
  }

  // The case's time limit in hours, for PlannedPoint::past_time_limit.
  void set_time_limit(std::optional<double> hours) { limit_hours_ = hours; }

  // GPU-hours of the points added so far (one iteration).
  double hours() const { return hours_; }
  PredictedCost& cost() { return cost_; }

 private:
  double calibrate(const Estimate& e) {
    const auto [factor, runs] = calibrate_
                                    ? calibration_.factor(e.estimator_version, e.gpu_type, e.model)
                                    : SystemCalibration::Factor{};
    const bool first = cost_.estimated + cost_.not_estimated == 0;
    cost_.factor_min = first ? factor : std::min(cost_.factor_min, factor);
    cost_.factor_max = first ? factor : std::max(cost_.factor_max, factor);
    cost_.calibration_runs = std::max(cost_.calibration_runs, runs);
    return factor;
  }

  const TestRun& run_;
  const System& system_;
  const ParamSpace& space_;
  const Estimator& estimator_;
  std::unique_ptr<CaseEstimator> prepared_;  // null: estimate each point applied
  SystemCalibration calibration_;            // the step-time factor of each estimate
  bool calibrate_;
  PredictedCost cost_;
  double hours_ = 0;
  std::optional<double> limit_hours_;
};

// GPUs per job summed over the valid points: all of them, and the first `cap` (what a grid
// search within its budget runs).
struct GpuSums {
  double all = 0, within_cap = 0;
};

// Walks every point of a sweep: pruned points go to the plan's pruned tallies, valid ones are
// counted with their GPUs, checked against the warning rules and, with a coster, estimated
// (the first `cost_cap` of them).
GpuSums walk_sweep(const TestRun& run, const System& system, const ParamSpace& space,
                   const GpuCounter& gpus, uint64_t cap, WarningTally& warnings, Plan& plan,
                   PointCoster* coster, uint64_t cost_cap) {
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
    if (coster && plan.valid < cost_cap) coster->add(cursor.point(), cursor.indices(), g);
    ++plan.valid;
  }
  if (plan.valid == 0) plan.gpus_per_job_min = 0;
  plan.pruned = log.pruned();
  plan.pruned_by_rule = log.tallies();
  return sums;
}

// The estimator of the case's workload when make_plan was asked for predictions; else null.
const Estimator* estimator_of(const TestRun& run, const PlanEstimation* estimation) {
  if (!estimation) return nullptr;
  const Workload* w = find_workload(run.test.test_template_name);
  return w ? w->info().estimator : nullptr;
}

// The case's predicted GPU-hours over all iterations from what `coster` estimated: every point
// that runs (a plain case, a grid within its budget), or for an agent that picks `jobs` of the
// valid points, their mean (points not estimated count as none).
void finish_predicted(PointCoster& coster, bool picks, uint64_t jobs, Plan& plan) {
  PredictedCost& cost = coster.cost();
  double hours = coster.hours();
  if (picks && plan.valid) {
    hours = hours / static_cast<double>(plan.valid) * static_cast<double>(jobs);
    cost.gpu_hours_approximate = jobs < plan.valid;
  }
  if (cost.estimated) cost.gpu_hours = hours * plan.iterations;
  plan.predicted = std::move(cost);
}

}  // namespace

double predicted_job_gpu_hours(int64_t train_steps, double step_time_s, double startup_s,
                               int64_t gpus) {
  const double seconds = static_cast<double>(train_steps) * step_time_s + startup_s;
  return seconds / 3600.0 * static_cast<double>(gpus);
}

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

Plan make_plan(const TestRun& run, const System& system, const PlanEstimation* estimation) {
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
  std::optional<PointCoster> coster;
  if (const Estimator* estimator = estimator_of(run, estimation))
    coster.emplace(run, system, space, *estimator, *estimation);
  if (coster) coster->set_time_limit(hours);
  if (!plan.is_sweep) {
    std::vector<uint32_t> none;
    warnings.check(0, none);
    warnings.record_in(plan);
    int64_t g = gpus.of(none);
    plan.gpus_per_job_min = plan.gpus_per_job_max = g;
    plan.jobs = static_cast<uint64_t>(plan.iterations);
    if (hours) plan.gpu_hours = static_cast<double>(g) * *hours * plan.iterations;
    if (coster) {
      coster->add(0, none, g);
      finish_predicted(*coster, false, 1, plan);
    }
    return plan;
  }

  SweepSettings settings = read_sweep_settings(run);
  plan.agent = settings.agent;
  const bool grid = settings.agent == "grid_search";
  const uint64_t cap = settings.budget.value_or(UINT64_MAX);
  // A grid runs its first `cap` valid points; another agent may pick any valid point.
  const GpuSums sums = walk_sweep(run, system, space, gpus, cap, warnings, plan,
                                  coster ? &*coster : nullptr, grid ? cap : UINT64_MAX);
  warnings.record_in(plan);

  const uint64_t per_iteration = std::min(plan.valid, cap);
  if (coster) finish_predicted(*coster, !grid, per_iteration, plan);
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

namespace {

std::string format_cases(const std::vector<Plan>& plans) {
  bool any_predicted = false;
  for (const Plan& p : plans) any_predicted = any_predicted || p.predicted.has_value();
  std::vector<std::string> head = {"case", "agent",    "points",     "valid",    "pruned",
                                   "jobs", "GPUs/job", "time limit", "GPU-hours"};
  if (any_predicted) head.push_back("predicted GPU-hours");
  std::vector<std::vector<std::string>> rows = {head};
  for (const Plan& p : plans) {
    std::string g = std::to_string(p.gpus_per_job_min);
    if (p.gpus_per_job_max != p.gpus_per_job_min) g += "-" + std::to_string(p.gpus_per_job_max);
    std::string hours = "unknown";
    if (p.gpu_hours) hours = (p.gpu_hours_estimated ? "~" : "") + fixed1(*p.gpu_hours);
    std::string agent = p.is_sweep ? p.agent : "-";
    if (!p.budget_note.empty()) agent += " (" + p.budget_note + ")";
    rows.push_back({p.case_id, agent, std::to_string(p.points), std::to_string(p.valid),
                    std::to_string(p.pruned), std::to_string(p.jobs), g, p.time_limit.value_or("-"),
                    hours});
    if (!any_predicted) continue;
    const PredictedCost* c = p.predicted ? &*p.predicted : nullptr;
    rows.back().push_back(
        c && c->gpu_hours ? (c->gpu_hours_approximate ? "~" : "") + fixed1(*c->gpu_hours) : "-");
  }
  TextTableStyle style;
  style.header_rule = TextTableStyle::HeaderRule::kNone;
  style.right_aligned_from = 2;  // the counts and hours
  return format_text_table(rows, style);
}

// A section per case: its rule tallies and their examples (pruned or warned points).
std::string format_tallies(const std::string& title, const std::vector<RuleTally>& tallies,
                           bool aligned) {
  std::string out = "\n" + title + "\n";
  size_t w = 0;
  if (aligned)
    for (const RuleTally& t : tallies) w = std::max(w, t.id.size() + 1 + t.name.size());
  for (const RuleTally& t : tallies) {
    out += aligned ? "  " + pad(t.id + " " + t.name, w, false) + "  " +
                         pad(std::to_string(t.count), 8, true) + "\n"
                   : "  " + t.id + " " + t.name + "  " + std::to_string(t.count) + "\n";
    for (const std::string& e : t.examples) out += "      e.g. " + e + "\n";
  }
  return out;
}

std::string opt_fixed(std::optional<double> v, const char* format) {
  if (!v) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, *v);
  return buf;
}

// "1 point", "2 points".
std::string points_word(uint64_t n) {
  return std::to_string(n) + (n == 1 ? " point" : " points");
}

// How a case's step times were corrected, for its section's title.
std::string calibration_words(const PredictedCost& c) {
  if (!c.calibrated) return "the raw model (--no-calibration)";
  if (c.calibration_runs == 0) return "the raw model (no finished run to calibrate it)";
  std::string factor = opt_fixed(c.factor_min, "x%.3f");
  if (c.factor_max != c.factor_min) factor += "-" + opt_fixed(c.factor_max, "%.3f");
  return "calibrated " + factor + " by up to " + std::to_string(c.calibration_runs) +
         " finished run" + (c.calibration_runs == 1 ? "" : "s");
}

// The points of a case that run, as the estimator predicts them.
std::string format_predicted(const Plan& p) {
  const PredictedCost& c = *p.predicted;
  const uint64_t counted = c.estimated + c.not_estimated;
  std::string out = "\nPredicted in " + p.case_id + " (" + std::to_string(c.estimated) + " of " +
                    std::to_string(counted) +
                    " points that run estimated; step time: " + calibration_words(c);
  if (c.startup_s) out += "; start-up " + opt_fixed(c.startup_s, "%.0f") + " s per job";
  out += "):\n";
  std::vector<std::vector<std::string>> rows = {{"step", "parameters", "memory", "GiB/GPU",
                                                 "of GiB", "step s", "steps", "GPUs", "GPU-hours"}};
  for (const PlannedPoint& pt : c.shown)
    rows.push_back({pt.step ? std::to_string(pt.step) : "-", pt.values.empty() ? "-" : pt.values,
                    pt.memory_verdict.empty() ? "-" : pt.memory_verdict,
                    opt_fixed(pt.memory_gib, "%.1f"), opt_fixed(pt.gpu_memory_gib, "%.1f"),
                    opt_fixed(pt.step_time_s, "%.2f"),
                    pt.train_steps ? std::to_string(*pt.train_steps) : "-", std::to_string(pt.gpus),
                    opt_fixed(pt.gpu_hours, "%.1f")});
  TextTableStyle style;
  style.header_rule = TextTableStyle::HeaderRule::kNone;
  style.right_aligned_from = 3;  // the figures
  style.trim_line_ends = true;
  for (const std::string& line : split(format_text_table(rows, style), '\n'))
    if (!line.empty()) out += "  " + line + "\n";
  if (c.not_shown)
    out +=
        "  ... and " + points_word(c.not_shown) + " more (benchpilot estimate lists every point)\n";
  if (c.not_estimated)
    out += "  " + points_word(c.not_estimated) +
           " not estimated (\"-\"): counted in the time-limit GPU-hours only\n";
  if (c.past_time_limit)
    out += "  " + points_word(c.past_time_limit) +
           " predicted to run longer than the time limit (" + p.time_limit.value_or("-") +
           "): the scheduler would end them before their last step\n";
  return out;
}

// "Total: ..." with the predicted GPU-hours beside the time limits' when a case has them.
std::string format_total(const std::vector<Plan>& plans) {
  double limit_hours = 0, predicted_hours = 0;
  uint64_t jobs = 0;
  bool any_predicted = false;
  std::vector<std::string> no_limit, not_estimated;
  for (const Plan& p : plans) {
    jobs += p.jobs;
    if (p.gpu_hours)
      limit_hours += *p.gpu_hours;
    else
      no_limit.push_back(p.case_id);
    if (!p.predicted) {
      not_estimated.push_back("every point of " + p.case_id);
      continue;
    }
    any_predicted = true;
    if (p.predicted->gpu_hours) predicted_hours += *p.predicted->gpu_hours;
    if (p.predicted->not_estimated)
      not_estimated.push_back(points_word(p.predicted->not_estimated) + " of " + p.case_id);
  }
  std::string out =
      "\nTotal: " + std::to_string(jobs) + " jobs, " + fixed1(limit_hours) + " GPU-hours";
  if (any_predicted) out += " from time limits";
  if (!no_limit.empty())
    out += " (unknown for cases without a time limit: " + join(no_limit, ", ") + ")";
  if (!any_predicted) return out + "\n";
  out += ", " + fixed1(predicted_hours) + " GPU-hours from predicted run times";
  if (!not_estimated.empty())
    out += " (not estimated, in the time limits only: " + join(not_estimated, ", ") + ")";
  return out + "\n";
}

}  // namespace

std::string format_plan(const std::vector<Plan>& plans) {
  std::string out = "Plan\n" + format_cases(plans);
  for (const Plan& p : plans)
    if (p.pruned)
      out += format_tallies("Pruned in " + p.case_id + " (" + std::to_string(p.pruned) + " of " +
                                std::to_string(p.points) +
                                " points; a point may break several rules):",
                            p.pruned_by_rule, true);
  for (const Plan& p : plans)
    if (p.warned)
      out += format_tallies("Warnings in " + p.case_id + " (" + std::to_string(p.warned) + " of " +
                                std::to_string(p.valid) + " points run but:)",
                            p.warned_by_rule, false);
  for (const Plan& p : plans)
    if (p.predicted) out += format_predicted(p);
  return out + format_total(plans);
}

}  // namespace bp
