// Comparing runs: which configurations of two sets match, and the one noise-aware verdict on
// a workload's comparison metric (Workload::comparison_metric: step time, bus bandwidth, ...)
// that `compare`, `history` and the regression gate use: faster (better), slower (worse) or no
// change, by the metric's direction.
//
// Method: the per-sample values of both sides (e.g. one per training step) go through a
// two-sided Mann-Whitney U rank test; a change is reported only when it is significant
// (p < alpha, default 0.05) AND the medians differ by at least min_effect (default 2 %). Without
// samples (only means), the effect threshold alone decides and the verdict says so.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/workload.h"
#include "store/compare_defaults.h"
#include "store/store.h"

namespace bp {

struct CompareOptions {
  double min_effect = kDefaultMinEffect;  // relative change of the metric's median
  double alpha = kDefaultAlpha;           // significance level of the rank test
  // Parameters that do not identify a configuration, besides each workload's image field and
  // secrets (Workload::image_field, secret_fields), which never do.
  std::vector<std::string> ignored_params;
};

// kFaster: better by the metric's direction (shorter time, higher bandwidth); kSlower: worse.
enum class Change { kFaster, kSlower, kNoChange, kUnknown };
const char* to_string(Change c);

struct PerfVerdict {
  Change change = Change::kUnknown;
  double relative = 0;  // (new - base) / base of the metric's median (or mean)
  double p_value = 1;
  bool from_samples = false;
  std::string explain;  // "+5.1% (p=0.0002)", "no value on one side"
};

// The verdict for values of one metric of `candidate` against `base`; a rise is better when
// `higher_is_better`. Samples may be empty; means are used then.
PerfVerdict metric_verdict(const std::vector<double>& base_samples, std::optional<double> base_mean,
                           const std::vector<double>& candidate_samples,
                           std::optional<double> candidate_mean, bool higher_is_better,
                           const CompareOptions& o);

// The metric runs of `workload` are compared by (its registry row's comparison metric); nullopt
// for an unknown workload or one that compares nothing.
std::optional<ResultColumn> compared_metric(const std::string& workload);

// The result columns of the workloads of `runs`, first-seen order, each metric once.
std::vector<ResultColumn> result_columns_of(const std::vector<StoredRun>& runs);

// A run's samples and mean of `metric`.
std::vector<double> metric_samples_of(const StoredRun& r, const std::string& metric);
std::optional<double> metric_mean_of(const StoredRun& r, const std::string& metric);

// Whether parameter `key` of run `r` identifies its configuration: not ignored, not its
// workload's image field (what is being compared) nor a secret.
bool identifies_configuration(const StoredRun& r, const std::string& key, const CompareOptions& o);

// The configuration key of a run: workload, model, GPUs and every identifying parameter.
std::string config_key(const StoredRun& r, const CompareOptions& o);

// One result column of the workload with its means over each side's runs.
struct ComparedColumn {
  ResultColumn column;
  std::optional<double> a, b;
};

struct ComparedConfig {
  std::string key;
  std::string label;  // the parameters that differ between configurations of the sets
  std::string workload;
  std::vector<const StoredRun*> a, b;  // passing runs of this configuration on each side
  // The workload's result columns, the compared metric first; empty for an unknown workload.
  std::vector<ComparedColumn> columns;
  PerfVerdict verdict;  // on columns[0], the comparison metric
};

// Matches the passing runs of a and b by configuration; configurations present on one side only
// are left out (the caller may count them).
std::vector<ComparedConfig> compare_runs(const std::vector<StoredRun>& a,
                                         const std::vector<StoredRun>& b, const CompareOptions& o);

}  // namespace bp
