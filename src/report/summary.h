// Scenario-level results: the table printed at the end of a run, summary.json (one stable,
// machine-readable file per results folder) and summary.txt.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/judge.h"  // run_status
#include "core/run_record.h"
#include "core/scenario.h"

namespace bp {

// "case/iteration[/step]".
std::string run_label(const RunRecord& r);

// A fixed-width table: run, parameters, status, the result columns of the workloads present
// (Workload::result_columns), job id; the best passing run of each case (highest reward) is
// marked with '*'.
std::string format_results_table(const std::vector<RunRecord>& records);

// Predicted beside measured, for the results table and report.html: the step time predicted at
// submission (calibrated as frozen), the measured step time's error against it
// (measured / predicted - 1), the predicted memory per GPU, and the measured peaks of allocated
// and reserved memory. Shown only when some run has a prediction (estimate.toml), so tables of
// older folders keep their columns; a run without one shows "-".
bool any_prediction(const std::vector<RunRecord>& records);
std::vector<std::string> prediction_headers();
// One text per header: "-" where unknown.
std::vector<std::string> prediction_texts(const RunRecord& r);
// measured / predicted - 1 of the step time; nullopt where either is unknown.
std::optional<double> step_time_error(const RunRecord& r);

// Index (into records) of the best passing run of each case; the one rule for "best".
std::map<std::string, size_t> best_per_case(const std::vector<RunRecord>& records);

// Writes summary.json and summary.txt into the results root.
void write_summary(const std::filesystem::path& root, const std::string& scenario_name,
                   const std::vector<RunRecord>& records);

// Rebuilds records from an existing results folder (benchpilot's or CloudAI's): every folder
// holding a test-run.toml or files a workload recognizes (Workload::can_handle). Writes per-run
// reports and judges each run as the engine did (core/judge.h, from job-state.toml); a missing
// or damaged state file gives status UNKNOWN. Folders that cannot be read and damaged
// test-run.toml files are reported as UNKNOWN records, never dropped. With the scenario, sweep
// points get their swept parameters back (from their test-run.toml).
std::vector<RunRecord> collect_results(const std::filesystem::path& root,
                                       const Scenario* scenario = nullptr);

}  // namespace bp
