// estimate: what each point of a scenario needs and predicts, before anything is installed or
// submitted (the workload's Estimator, core/estimate.h). Same inputs as plan. The step time is
// corrected by the finished runs of the results store (core/calibration.h); --accuracy says how
// well that has predicted them.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "cli/commands.h"
#include "cli/limits.h"
#include "cli/load.h"
#include "core/calibration.h"
#include "core/workload.h"
#include "report/value_json.h"
#include "store/calibration_runs.h"
#include "sweep/constraints.h"
#include "sweep/param_space.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/text_table.h"

namespace bp {

namespace {

nlohmann::json opt(std::optional<double> v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

// Scales e's step time (and the throughputs that follow from it) by the factor the results
// store's runs give it (core/calibration.h); returns the factor.
SystemCalibration::Factor calibrate(SystemCalibration& calibration, Estimate& e) {
  const SystemCalibration::Factor f = calibration.factor(e.estimator_version, e.gpu_type, e.model);
  if (e.step_time_s) *e.step_time_s *= f.value;
  if (e.tflops_per_gpu) *e.tflops_per_gpu /= f.value;
  if (e.tokens_per_s_per_gpu) *e.tokens_per_s_per_gpu /= f.value;
  return f;
}

struct PointEstimate {
  std::string case_id;
  int iteration = 0;
  std::optional<uint64_t> step;  // point of a sweep (as pruned.csv numbers it)
  Action action;                 // the swept values
  Estimate e;                    // step time calibrated by `factor`
  std::optional<double> raw_step_time_s;
  double factor = 1;         // the calibration's step-time factor (1: the raw model)
  int calibration_runs = 0;  // how many finished runs it rests on
  MemoryVerdict verdict;
  std::vector<std::string> pruned;  // rules other than E1 that prune the point
};

// Every point of one case (one iteration; the others are the same); calibrated unless
// `calibration` is null.
std::vector<PointEstimate> estimate_case(const TestRun& run, const System& system,
                                         const Estimator& estimator,
                                         SystemCalibration* calibration) {
  std::vector<PointEstimate> out;
  ParamSpace space = ParamSpace::of(run);
  CompiledConstraints rules = compile_case_constraints(run, space, &system);
  auto one = [&](std::optional<uint64_t> step, const std::vector<uint32_t>& indices) {
    PointEstimate p;
    p.case_id = run.id;
    p.step = step;
    p.action = space.action_of(indices);
    p.e = estimator.estimate(space.is_sweep() ? apply_indices(run, space, indices) : run, system);
    p.raw_step_time_s = p.e.step_time_s;
    if (calibration) {
      const SystemCalibration::Factor f = calibrate(*calibration, p.e);
      p.factor = f.value;
      p.calibration_runs = f.runs;
    }
    if (p.e.memory && p.e.gpu_memory_gib)
      p.verdict = judge_memory(p.e.memory->total(), *p.e.gpu_memory_gib, run.test.oom_rule);
    if (!rules.empty())
      for (const Violation& v : rules.explain(indices))
        if (v.rule_id != "E1") p.pruned.push_back(v.rule_id);
    out.push_back(std::move(p));
  };
  if (!space.is_sweep()) {
    one(std::nullopt, {});
    return out;
  }
  PointCursor cursor(space);
  size_t changed = 0;
  while (cursor.next(changed)) one(cursor.point(), cursor.indices());
  return out;
}

nlohmann::json point_json(const PointEstimate& p) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : p.e.params) params[k] = value_to_json(v);
  for (const auto& [k, v] : p.action) params[k] = value_to_json(v);
  nlohmann::json memory;
  if (p.e.memory) {
    const MemoryEstimate& m = *p.e.memory;
    memory = {{"weights", m.weights},     {"gradients", m.gradients},
              {"optimizer", m.optimizer}, {"activations", m.activations},
              {"other", m.other},         {"total", m.total()}};
    nlohmann::json details = nlohmann::json::object();
    for (const auto& [k, v] : m.details) details[k] = v;
    memory["other_parts"] = details;
  }
  return {{"case", p.case_id},
          {"iteration", p.iteration},
          {"step", p.step ? nlohmann::json(*p.step) : nlohmann::json()},
          {"params", params},
          {"model_flops_per_token", opt(p.e.model_flops_per_token)},
          {"step_time_s", opt(p.e.step_time_s)},
          {"raw_step_time_s", opt(p.raw_step_time_s)},
          {"calibration", {{"factor", p.factor}, {"runs", p.calibration_runs}}},
          {"tflops_per_gpu", opt(p.e.tflops_per_gpu)},
          {"tokens_per_s_per_gpu", opt(p.e.tokens_per_s_per_gpu)},
          {"memory_gib", memory},
          {"gpu_memory_gib", opt(p.e.gpu_memory_gib)},
          {"fits", p.verdict.fits},
          {"near_limit", p.verdict.near_limit},
          {"pruned", p.pruned}};
}

std::string num(std::optional<double> v, int decimals) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : "-";
}

std::string status_of(const PointEstimate& p) {
  if (!p.e.memory || !p.e.gpu_memory_gib) return "unknown";
  if (!p.verdict.fits) return "OUT OF MEMORY";
  if (p.verdict.over) return "over (warn)";
  return p.verdict.near_limit ? "near limit" : "fits";
}

// One table per case: the point's parameters, verdict and figures (with -v, memory parts).
std::string format_case(const std::vector<PointEstimate>& points, bool verbose) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {"step", "parameters", "memory", "GiB/GPU", "of GiB"};
  if (verbose) head.insert(head.end(), {"weights", "grads", "optim", "activ", "other"});
  head.insert(head.end(), {"step s", "TFLOP/s/GPU", "tokens/s/GPU", "FLOP/token", "pruned"});
  rows.push_back(head);
  for (const PointEstimate& p : points) {
    std::vector<std::string> words;
    for (const auto& [k, v] : p.e.params)
      if (k == "tp" || k == "pp" || k == "cp" || k == "vp" || k == "ep" || k == "mb" ||
          k == "num_gpus" || k == "gpu_type")
        words.push_back(k + "=" + (v.is_none() ? "?" : v.to_plain_string()));
    for (const auto& [k, v] : p.action)
      if (k != "tp" && k != "pp" && k != "cp" && k != "vp" && k != "ep" && k != "mb" &&
          k != "num_gpus" && k != "gpu_type")
        words.push_back(k + "=" + v.to_plain_string());
    const MemoryEstimate* m = p.e.memory ? &*p.e.memory : nullptr;
    std::vector<std::string> r = {
        p.step ? std::to_string(*p.step) : "-", join(words, " "), status_of(p),
        num(m ? std::optional(m->total()) : std::nullopt, 1), num(p.e.gpu_memory_gib, 1)};
    if (verbose)
      for (double part : {m ? m->weights : -1, m ? m->gradients : -1, m ? m->optimizer : -1,
                          m ? m->activations : -1, m ? m->other : -1})
        r.push_back(part < 0 ? "-" : fmt::format("{:.1f}", part));
    r.insert(r.end(),
             {num(p.e.step_time_s, 2), num(p.e.tflops_per_gpu, 0), num(p.e.tokens_per_s_per_gpu, 0),
              p.e.model_flops_per_token ? fmt::format("{:.4g}", *p.e.model_flops_per_token) : "-",
              p.pruned.empty() ? "" : join(p.pruned, ",")});
    rows.push_back(r);
  }
  TextTableStyle style;
  style.header_rule = TextTableStyle::HeaderRule::kNone;
  style.trim_line_ends = true;
  return format_text_table(rows, style);
}

// What the calibration did to a case's step times, one line per distinct factor.
std::string calibration_note(const std::vector<PointEstimate>& points, const std::string& system,
                             bool calibrate) {
  if (!calibrate) return "step time: the raw model (--no-calibration)\n";
  std::set<std::tuple<std::string, std::string, int, double>> seen;  // model, gpu, runs, factor
  for (const PointEstimate& p : points)
    if (p.raw_step_time_s) seen.emplace(p.e.model, p.e.gpu_type, p.calibration_runs, p.factor);
  std::string out;
  for (const auto& [model, gpu, runs, factor] : seen)
    out += runs == 0 ? fmt::format(
                           "step time: the raw model (no finished {} run on {}/{} with "
                           "this estimator's prediction in the results store)\n",
                           model, system, gpu)
                     : fmt::format("step time: calibrated x{:.3f} by {} finished run{} on {}/{}\n",
                                   factor, runs, runs == 1 ? "" : "s", system, gpu);
  return out;
}

std::string percent(double fraction) {
  return fmt::format("{:.1f}%", 100 * fraction);
}

}  // namespace

std::vector<Observation> stored_observations(const CommonOptions& opts) {
  try {
    return calibration_observations(resolve_store_path({opts.store, opts.system_config}));
  } catch (const std::exception& e) {
    log::warn(std::string("results store: ") + e.what() + " (step times are not calibrated)");
    return {};
  }
}

int cmd_estimate_accuracy(const StoreLocation& where, bool json) {
  const std::filesystem::path path = resolve_store_path(where);
  std::vector<AccuracyRow> rows = leave_one_out_accuracy(calibration_observations(path));
  if (json) {
    nlohmann::json all = nlohmann::json::array();
    for (const AccuracyRow& r : rows)
      all.push_back({{"model", r.model},
                     {"system", r.system},
                     {"gpu_type", r.gpu_type},
                     {"estimator_version", r.estimator_version},
                     {"runs", r.runs},
                     {"median_error", r.median_error},
                     {"worst_error", r.worst_error},
                     {"raw_median_error", r.raw_median_error},
                     {"raw_worst_error", r.raw_worst_error}});
    std::cout << nlohmann::json{{"store", path.string()}, {"accuracy", all}}.dump(2) << "\n";
    return 0;
  }
  if (rows.empty()) {
    std::cout << "No finished run in " << path.string()
              << " has a frozen prediction and a measured step time yet.\n";
    return 0;
  }
  std::vector<std::vector<std::string>> table = {{"model", "system", "gpu", "estimator", "runs",
                                                  "median error", "worst error", "raw median",
                                                  "raw worst"}};
  for (const AccuracyRow& r : rows)
    table.push_back({r.model, r.system, r.gpu_type, r.estimator_version, std::to_string(r.runs),
                     percent(r.median_error), percent(r.worst_error), percent(r.raw_median_error),
                     percent(r.raw_worst_error)});
  std::cout << "Step time error |predicted / measured - 1| of the runs in " << path.string()
            << "; each run calibrated by the others (leave-one-out), raw: the uncalibrated "
               "model\n\n"
            << format_text_table(table);
  return 0;
}

int cmd_estimate(const CommonOptions& opts, const EstimateFlags& flags) {
  const bool json = flags.json, verbose = flags.verbose;
  LoadedConfig c = load_config(opts);
  WorkLimits limits;
  if (!opts.allow_large) check_sweep_sizes(c.scenario, limits);
  std::optional<SystemCalibration> calibration;
  if (flags.calibrate) calibration.emplace(stored_observations(opts), c.system.name);
  nlohmann::json all = nlohmann::json::array();
  std::string text;
  for (const TestRun& run : c.scenario.runs) {
    const Workload* w = find_workload(run.test.test_template_name);
    const Estimator* estimator = w ? w->info().estimator : nullptr;
    if (!estimator) continue;
    std::vector<PointEstimate> points =
        estimate_case(run, c.system, *estimator, calibration ? &*calibration : nullptr);
    if (json) {
      for (int it = 0; it < std::max(1, run.iterations); ++it)
        for (PointEstimate& p : points) {
          p.iteration = it;
          all.push_back(point_json(p));
        }
    } else {
      text += fmt::format("\n{} ({} x {} iteration{})\n", run.id, run.test.test_template_name,
                          std::max(1, run.iterations), run.iterations > 1 ? "s" : "");
      text += calibration_note(points, c.system.name, flags.calibrate);
      text += format_case(points, verbose);
    }
  }
  if (json) {
    std::cout << nlohmann::json{{"points", all}}.dump(2) << "\n";
    return 0;
  }
  if (text.empty()) text = "\nNo case of this scenario has a workload that estimates.\n";
  std::cout << "Estimate (GiB = 2^30 bytes per GPU, most-loaded rank)" << text;
  return 0;
}

}  // namespace bp
