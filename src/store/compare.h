// Comparing runs: which configurations of two sets match, and the one noise-aware verdict on
// step time (faster / slower / no change) that `compare`, `history` and the regression gate use.
//
// Method: the per-step step-time samples of both sides go through a two-sided Mann-Whitney U
// rank test; a change is reported only when it is significant (p < alpha, default 0.05) AND
// the medians differ by at least min_effect (default 2 %). Without samples (only means), the
// effect threshold alone decides and the verdict says so.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace bp {

struct CompareOptions {
  double min_effect = 0.02;  // relative change of the median step time
  double alpha = 0.05;       // significance level of the rank test
  // Parameters that do not identify a configuration (what is being compared, secrets).
  std::vector<std::string> ignored_params = {"cmd_args.container_image", "cmd_args.hf_token",
                                             "cmd_args.wandb_key"};
};

enum class Change { kFaster, kSlower, kNoChange, kUnknown };
const char* to_string(Change c);

struct PerfVerdict {
  Change change = Change::kUnknown;
  double relative = 0;  // (new - base) / base of the median (or mean) step time
  double p_value = 1;
  bool from_samples = false;
  std::string explain;  // "+5.1% (p=0.0002)", "no step-time samples"
};

// The verdict for step times (seconds; lower is better) of `candidate` against `base`.
// Samples may be empty; means are used then.
PerfVerdict step_time_verdict(const std::vector<double>& base_samples,
                              std::optional<double> base_mean,
                              const std::vector<double>& candidate_samples,
                              std::optional<double> candidate_mean, const CompareOptions& o);

// The configuration key of a run: workload, model, GPUs and every parameter not ignored.
std::string config_key(const StoredRun& r, const CompareOptions& o);

struct ComparedConfig {
  std::string key;
  std::string label;  // the parameters that differ between configurations of the sets
  std::vector<const StoredRun*> a, b;  // passing runs of this configuration on each side
  std::optional<double> a_step_time, b_step_time, a_tflops, b_tflops;  // means over runs
  PerfVerdict verdict;
};

// Matches the passing runs of a and b by configuration; configurations present on one side only
// are left out (the caller may count them).
std::vector<ComparedConfig> compare_runs(const std::vector<StoredRun>& a,
                                         const std::vector<StoredRun>& b, const CompareOptions& o);

}  // namespace bp
