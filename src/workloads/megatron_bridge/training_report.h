// training_report.json of a Megatron-Bridge run, in CloudAI's schema and key order
// (TrainingReportGenerationStrategy): the resolved configuration, every step, and statistics over
// the steps left after the warm-up window.
//
// Where CloudAI reads TensorBoard event files, benchpilot reads the training log that the
// launcher relays (launcher.log): the `iteration N/M | ...` lines give step time ("elapsed time
// per iteration (ms)"), lm loss, grad norm and TFLOP/s/GPU (the line's throughput field, else
// the Step Time line just before it); the `[Rank R] (after K iterations) memory (GB) | ...` lines
// give memory (bytes = GB x 1e9, the largest over ranks). Megatron-Bridge prints memory only
// after the first one or two iterations, so a step carries the latest reading at or before it
// (null before the first). grad_norm is an addition at the end of each step and of the
// aggregation (CloudAI has no such field). world_size is cmd_args.num_gpus, the launcher's own
// world size (CloudAI multiplies num_nodes by the system's gpus_per_node, which is wrong when a
// run uses part of each node).
//
// The configuration comes from the first <run dir>/**/configs/ConfigContainer.yaml (sorted
// paths, as CloudAI), read with yaml-cpp; missing paths are null.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/workload.h"
#include "workloads/megatron_bridge/launcher_log.h"

namespace bp::mbridge {

struct TrainingStep {
  int64_t iteration = 0;
  double step_time_sec = 0;
  std::optional<double> loss;
  std::optional<double> memory_reserved_bytes;
  std::optional<double> memory_allocated_bytes;
  std::optional<double> tflops_per_gpu;
  std::optional<double> grad_norm;
};

// Steps of a training log, ordered by iteration; a repeated iteration (a relaunched attempt)
// keeps its last line.
std::vector<TrainingStep> parse_training_steps(std::string_view log_text);

// The warm-up window (CloudAI's [training_report] table and profiling settings).
struct StepWindow {
  int64_t exclude_start_steps = 5;
  int64_t exclude_post_profiling_steps = 2;
  bool profiling_enabled = false;
  std::optional<int64_t> profiling_start_step, profiling_stop_step;
};

// Drops the first exclude_start_steps entries, then (profiling on, both bounds set) the steps
// with start <= iteration <= stop + exclude_post_profiling_steps.
std::vector<TrainingStep> filter_steps(const std::vector<TrainingStep>& steps,
                                       const StepWindow& window);

struct MetricStats {
  double mean = 0, min = 0, max = 0, std = 0, t99 = 0, t95 = 0;
};
// mean, min, max, population std, and Python's statistics.quantiles(n=100,
// method="inclusive")[p-1] for p = 99 and 95; nullopt for no values.
std::optional<MetricStats> metric_stats(const std::vector<double>& values);

// The JSON text of training_report.json for a run dir; nullopt when its log has no iteration
// lines (or no log).
std::optional<std::string> format_training_report(const std::filesystem::path& run_dir);

// Writes <run_dir>/training_report.json when there is something to report.
void write_training_report(const std::filesystem::path& run_dir);
// The same from the run's launcher log read (nothing without iteration lines).
void write_training_report(const std::filesystem::path& run_dir, const LauncherLogRead& read);

// Per-step series for report.html: step time and TFLOP/s/GPU from the Step Time lines, lm loss
// from the iteration lines.
std::vector<ReportSeries> mbridge_report_series(const std::filesystem::path& run_dir);
std::vector<ReportSeries> mbridge_report_series(const LauncherLogRead& read);

}  // namespace bp::mbridge
