// Reading what a results folder holds beyond the run records, for report.html and results.xml:
// a run's job facts and its files. The sweep files' readers sit beside their writers in sweep/
// (trajectory.csv: sweep/trajectory.h, pruned.csv: sweep/prune_log.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/run_record.h"
#include "report/summary.h"    // run_label, run_status
#include "sweep/prune_log.h"   // PrunedPoint, read_pruned, group_pruned
#include "sweep/trajectory.h"  // TrajectoryRow, read_trajectory

namespace bp {

class Workload;

// Records rebuilt from a folder (generate-report) carry no swept values; this fills them from
// their sweep's trajectory.csv.
void fill_params_from_trajectories(std::vector<RunRecord>& records);

// Why a run failed, for reports: its message, or (a record rebuilt from files whose job failed
// after the log looked fine) "job <id> ended <state>" and the end of its log. Empty when passed.
std::string failure_text(const RunRecord& r);

// The job's elapsed seconds from the scheduler's job record, when known: the record's as
// collect_results read it, else read from the run folder (a record the engine built).
std::optional<double> job_elapsed_seconds(const RunRecord& r);
// GPUs the run used, by its workload's GpuCountRule over test-run.toml (core/workload.h:
// gpus_of_run); nullopt when unknown.
std::optional<int64_t> run_gpus(const std::filesystem::path& run_dir,
                                std::optional<int64_t> gpus_per_node);

// Files of a run worth linking, existing ones only: logs first, then reports.
std::vector<std::filesystem::path> run_files(const std::filesystem::path& run_dir);

// A relative path as a URL path: every byte outside [A-Za-z0-9._~/-] percent-encoded.
std::string url_path(const std::filesystem::path& relative);

}  // namespace bp
