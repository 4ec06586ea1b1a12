// What benchpilot knows about one run (one case, iteration and sweep point) once it ended.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/value.h"
#include "core/estimate.h"

namespace bp {

// One scheduler job of a run (a launcher that retries submits several).
struct AttemptRecord {
  std::string job_id;
  std::string state;
  std::optional<int> exit_code;
  int signal = 0;
};

struct RunRecord {
  std::string case_id;
  int iteration = 0;
  int step = 0;  // sweep point number; 0 for a case that is not a sweep
  std::filesystem::path run_dir;
  std::vector<std::pair<std::string, Value>> params;  // swept values of this point
  std::string job_id;                                 // of the last attempt
  std::string workload;                               // test_template_name
  std::string state;  // scheduler's final state (of the last attempt), or "DRY-RUN"
  std::vector<AttemptRecord> attempts;  // every job submitted for this run, oldest first
  // The job's elapsed seconds from the scheduler's job record (core/job_record.h), when the
  // record was read building this record; reports read the record otherwise.
  std::optional<double> elapsed_seconds;
  bool passed = false;   // job ended well and the workload's verdict passed (core/judge.h)
  bool skipped = false;  // never ran on purpose (a failed pre-test); `message` says why
  std::string message;   // why it failed
  std::map<std::string, double> metrics;
  // The case's reward for these metrics (core/reward.h run_reward); decides the best run.
  std::optional<double> reward;
  Value details;  // the workload's report_details (none when it has none)
  // The regression gate's word on this run (store/regression.h); empty when not judged.
  std::string perf_verdict;
  // The prediction frozen in its folder when it was submitted (estimate.toml), and what the run
  // measured of it: the results table and report.html show them side by side. No prediction
  // for a run submitted without one (an older folder, a workload that predicts nothing).
  std::optional<FrozenEstimate> prediction;
  MeasuredRun measured;
};

}  // namespace bp
