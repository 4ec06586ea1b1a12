// What a scenario will cost before anything is submitted: per case the sweep points, how many
// the constraints prune and why, the jobs, GPUs per job and the GPU-hour budget from the time
// limits. `benchpilot plan` and dry-run print it. `plan` adds, for a case whose workload has an
// Estimator (core/estimate.h), each running point's predicted step time and memory and the
// GPU-hours from the predicted run time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/calibration.h"
#include "core/scenario.h"
#include "core/system.h"
#include "sweep/prune_log.h"

namespace bp {

// One point that runs, as the workload's estimator predicts it; figures unset where it cannot.
struct PlannedPoint {
  uint64_t step = 0;   // the point's number in the sweep (as pruned.csv numbers it); 0: plain
  std::string values;  // the swept values, "tp=2 pp=4"; empty for a plain case
  int64_t gpus = 0;
  std::optional<double> step_time_s;  // calibrated where the results store has runs
  std::optional<int64_t> train_steps;
  std::optional<double> memory_gib, gpu_memory_gib;
  std::string memory_verdict;       // "fits", "near limit", "over (warn)"; empty when unknown
  std::optional<double> gpu_hours;  // one job: predicted_job_gpu_hours()
  bool past_time_limit = false;     // its predicted run time is longer than the case's limit
};

// The cost from predicted run times of a case whose workload estimates.
struct PredictedCost {
  // Points that run (per iteration; for an agent that picks, every valid point) with and
  // without a predicted run time.
  uint64_t estimated = 0, not_estimated = 0;
  // Estimated points whose predicted run time is longer than the case's time limit: the
  // scheduler would end them before their last step.
  uint64_t past_time_limit = 0;
  // Over the estimated points and every iteration; unset when none is estimated. Approximate
  // (`~`) when the agent picks an unknown subset: the mean over the valid points x jobs.
  std::optional<double> gpu_hours;
  bool gpu_hours_approximate = false;
  std::optional<double> startup_s;  // the first estimated point's start-up per job
  // How the step times were corrected: calibration factors seen (min, max) and the most finished
  // runs one rests on (0: the raw model).
  double factor_min = 1, factor_max = 1;
  int calibration_runs = 0;
  bool calibrated = false;          // false: --no-calibration
  std::vector<PlannedPoint> shown;  // the first kShownPlannedPoints points that run
  uint64_t not_shown = 0;
};
// `plan` lists at most this many points per case; `estimate` lists every one.
inline constexpr size_t kShownPlannedPoints = 100;

struct Plan {
  std::string case_id;
  std::string workload;
  bool is_sweep = false;
  std::string agent;        // sweep agent; empty for a plain case
  std::string budget_note;  // how the agent limits the jobs, e.g. "agent_steps=10"
  uint64_t points = 1;
  uint64_t valid = 1;
  uint64_t pruned = 0;
  std::vector<RuleTally> pruned_by_rule;
  // Points that run but that a warning rule flags (near the GPU's memory), counts and examples.
  uint64_t warned = 0;
  std::vector<RuleTally> warned_by_rule;
  int iterations = 1;
  uint64_t jobs = 1;  // jobs over all iterations
  int64_t gpus_per_job_min = 0;
  int64_t gpus_per_job_max = 0;
  std::optional<std::string> time_limit;
  std::optional<double> gpu_hours;         // unset when the case has no time limit
  bool gpu_hours_estimated = false;        // agent picks an unknown subset: mean GPUs x jobs
  std::optional<PredictedCost> predicted;  // set when asked for and the workload estimates
};

// Asks make_plan for the predicted figures. `calibration_runs`: the results store's finished
// runs that correct the step time (core/calibration.h), empty for the raw model.
struct PlanEstimation {
  std::vector<Observation> calibration_runs;
  bool calibrate = true;
};

// GPU-hours of one job from its predicted run time: (steps x step time + start-up) x GPUs.
double predicted_job_gpu_hours(int64_t train_steps, double step_time_s, double startup_s,
                               int64_t gpus);

// Walks the case's whole space once (no Value per point). GPUs per job as the workload's
// gpu_count() says: a cmd_args field with its default, else num_nodes x system.gpus_per_node
// (1 if unset).
// With `estimation`, a case whose workload has an Estimator also gets `predicted`.
// Throws ConfigError for bad sweep settings or values.
Plan make_plan(const TestRun& run, const System& system,
               const PlanEstimation* estimation = nullptr);

// "HH:MM:SS" or "D-HH:MM:SS" in hours; nullopt when it cannot be read.
std::optional<double> time_limit_hours(const std::string& time_limit);

// A table of the cases, the pruning summary of each sweep (counts per rule and examples), the
// predicted points of each estimated case and the totals (predicted GPU-hours beside the time
// limits' when some case has them).
std::string format_plan(const std::vector<Plan>& plans);

}  // namespace bp
