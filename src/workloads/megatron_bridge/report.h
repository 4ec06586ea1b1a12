// Verdict, report.txt and metrics of a Megatron-Bridge run, from its launcher log (CloudAI's
// MegatronBridgeReportGenerationStrategy and was_run_successful).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/workload.h"
#include "workloads/megatron_bridge/launcher_log.h"
#include "workloads/megatron_bridge/metrics.h"
#include "workloads/megatron_bridge/wrapper.h"

namespace bp::mbridge {

// Launcher log names in the run dir, in order of preference: the one benchpilot writes, then
// the one CloudAI writes (so results produced by CloudAI can be re-reported).
inline constexpr std::string_view kCloudaiLauncherLog = "cloudai_megatron_bridge_launcher.log";
inline constexpr std::string_view kReportLogNames[] = {kLauncherLog, kCloudaiLauncherLog};
// How many of the log's last lines a failed verdict quotes (CloudAI's choice).
inline constexpr int kVerdictTailLines = kLastLinesKept;
// How many a failed job's details quote.
inline constexpr int kFailureDetailLines = 20;

// The launcher log of a run dir, or nullopt when neither name exists as a file.
std::optional<std::filesystem::path> find_launcher_log(const std::filesystem::path& run_dir);

// Ok when the log has at least one step line. Fails with "Megatron-Bridge launcher log not
// found in <run_dir>." without a log, and with the log's last 40 lines without step lines (the
// launcher's exit code is ignored: its perf scripts fail after training on purpose).
RunVerdict mbridge_verdict(const std::filesystem::path& run_dir);
// The same from the log found in run_dir (nullopt: none) and its read (nullptr: unreadable).
RunVerdict log_verdict(const std::filesystem::path& run_dir,
                       const std::optional<std::filesystem::path>& log,
                       const LauncherLogRead* read);

// Writes <run_dir>/report.txt in CloudAI's format from the last 10 step lines. Without a log it
// only logs an error, like CloudAI.
void write_mbridge_report(const std::filesystem::path& run_dir);
// training_report.json and report.txt from the log found in run_dir and its read (as above).
void write_mbridge_reports(const std::filesystem::path& run_dir,
                           const std::optional<std::filesystem::path>& log,
                           const LauncherLogRead* read);

// report.txt's text for a log and its (already kept) samples.
std::string format_mbridge_report(const std::filesystem::path& log,
                                  const std::vector<StepSample>& samples);

// "default" and "step-time": mean step time (s); "tflops-per-gpu": mean TFLOP/s per GPU; over
// the last 10 step lines. nullopt for other names, no log, or no step lines.
std::optional<double> mbridge_metric(const std::filesystem::path& run_dir, std::string_view name);
std::vector<std::string> mbridge_metric_names();
// Every metric of mbridge_metric_names() of a read (none without step lines).
std::map<std::string, double> mbridge_metrics(const LauncherLogRead& read);

// What the run measured of what the estimator predicts: the "step-time" metric and the memory
// lines' figures in GiB (the one conversion from the log's units).
MeasuredRun mbridge_measured(const LauncherLogRead& read);

// The step lines CloudAI summarises: the last 10 of the log.
std::vector<StepSample> last_samples(const LauncherLogRead& read);

// Whether run_dir holds a launcher log under either name.
bool mbridge_can_handle(const std::filesystem::path& run_dir);

}  // namespace bp::mbridge
