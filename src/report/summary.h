// Scenario-level results: the table printed at the end of a run, summary.json (one stable,
// machine-readable file per results folder) and summary.txt.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/run_record.h"
#include "core/scenario.h"

namespace bp {

// A fixed-width table: run, parameters, status, step time, TFLOP/s/GPU, job id; the best
// passing run of each case (lowest step time) is marked with '*'.
std::string format_results_table(const std::vector<RunRecord>& records);

// Writes summary.json and summary.txt into the results root.
void write_summary(const std::filesystem::path& root, const std::string& scenario_name,
                   const std::vector<RunRecord>& records);

// Rebuilds records from an existing results folder (benchpilot's or CloudAI's): every folder
// holding a test-run.toml or a Megatron-Bridge launcher log. Writes per-run reports. A run
// passes only when its job state file says COMPLETED and the workload's verdict passes; a
// missing or damaged state file gives status UNKNOWN. Folders that cannot be read and damaged
// test-run.toml files are reported as UNKNOWN records, never dropped. With the scenario, sweep
// points get their swept parameters back (from their test-run.toml).
std::vector<RunRecord> collect_results(const std::filesystem::path& root,
                                       const Scenario* scenario = nullptr);

}  // namespace bp
