// Reading what a results folder holds beyond the run records, for report.html and results.xml:
// trajectory.csv and pruned.csv of each sweep, a run's job facts and its files.
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
#include "report/summary.h"  // run_label, run_status

namespace bp {

class Workload;

// Rows of a CSV file (RFC 4180 quoting, as Python's csv module writes); the header is row 0.
// Empty when the file is missing or unreadable.
std::vector<std::vector<std::string>> read_csv_file(const std::filesystem::path& file);

struct TrajectoryRow {
  int step = 0;
  std::string action;  // Python dict repr
  double reward = 0;
  std::string observation;
};
// <case dir>/trajectory.csv; rows that do not parse are skipped.
std::vector<TrajectoryRow> read_trajectory(const std::filesystem::path& case_dir);

// The (name, value) pairs of trajectory.csv's action column, a Python dict repr of scalars:
// {'tp': 2, 'cuda_graph_scope': 'attn', 'fp8': True}. Empty when it does not parse.
std::vector<std::pair<std::string, Value>> parse_action(std::string_view repr);

// Records rebuilt from a folder (generate-report) carry no swept values; this fills them from
// their sweep's trajectory.csv.
void fill_params_from_trajectories(std::vector<RunRecord>& records);

struct PrunedPoint {
  int64_t step = 0;
  std::string values;                                       // "tp=4 pp=3"
  std::vector<std::pair<std::string, std::string>> params;  // ("tp", "4"), ("pp", "3")
  std::vector<std::string> rule_ids;
  std::string messages;
};
// <case dir>/pruned.csv.
std::vector<PrunedPoint> read_pruned(const std::filesystem::path& case_dir);

struct PrunedRule {
  std::string id;
  uint64_t count = 0;
  std::vector<std::string> examples;  // "step 9: tp=1 pp=3: <messages>"
};
// Pruned points grouped by rule id (a point counts for each rule it broke), most frequent
// first, with up to `examples` examples each.
std::vector<PrunedRule> group_pruned(const std::vector<PrunedPoint>& points, size_t examples = 3);

// Why a run failed, for reports: its message, or (a record rebuilt from files whose job failed
// after the log looked fine) "job <id> ended <state>" and the end of its log. Empty when passed.
std::string failure_text(const RunRecord& r);

// The job's elapsed seconds from slurm-job.toml, when known.
std::optional<double> job_elapsed_seconds(const std::filesystem::path& run_dir);
// GPUs the run used, by its workload's GpuCountRule over test-run.toml (core/workload.h:
// gpus_of_run); nullopt when unknown.
std::optional<int64_t> run_gpus(const std::filesystem::path& run_dir,
                                std::optional<int64_t> gpus_per_node);

// Files of a run worth linking, existing ones only: logs first, then reports.
std::vector<std::filesystem::path> run_files(const std::filesystem::path& run_dir);

// A relative path as a URL path: every byte outside [A-Za-z0-9._~/-] percent-encoded.
std::string url_path(const std::filesystem::path& relative);

}  // namespace bp
