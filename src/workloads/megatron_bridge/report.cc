#include "workloads/megatron_bridge/report.h"

#include <algorithm>
#include <fstream>
#include <system_error>

#include "util/exact_stats.h"
#include "util/files.h"
#include "util/log.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/training_report.h"

namespace bp::mbridge {
namespace {

namespace fs = std::filesystem;

void append_stats(std::string& out, std::string_view title, const std::vector<double>& values) {
  out += title;
  out += '\n';
  const bool any = !values.empty();
  const double min = any ? *std::min_element(values.begin(), values.end()) : 0.0;
  const double max = any ? *std::max_element(values.begin(), values.end()) : 0.0;
  out += "  avg: " + python_float(exact_mean(values)) + "\n";
  out += "  median: " + python_float(python_median(values)) + "\n";
  out += "  min: " + python_float(min) + "\n";
  out += "  max: " + python_float(max) + "\n";
  out += "  std: " + python_float(exact_pstdev(values)) + "\n";
}

}  // namespace

std::vector<StepSample> last_samples(const LauncherLogRead& read) {
  const size_t n = std::min(read.samples.size(), kCloudaiKeptSteps);
  return {read.samples.end() - static_cast<ptrdiff_t>(n), read.samples.end()};
}

std::optional<fs::path> find_launcher_log(const fs::path& run_dir) {
  for (std::string_view name : kReportLogNames) {
    fs::path candidate = run_dir / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

bool mbridge_can_handle(const fs::path& run_dir) {
  return find_launcher_log(run_dir).has_value();
}

RunVerdict mbridge_verdict(const fs::path& run_dir) {
  auto log = find_launcher_log(run_dir);
  auto read = log ? launcher_log_read(*log) : nullptr;
  return log_verdict(run_dir, log, read.get());
}

RunVerdict log_verdict(const fs::path& run_dir, const std::optional<fs::path>& log,
                       const LauncherLogRead* read) {
  if (!log) return {false, "Megatron-Bridge launcher log not found in " + run_dir.string() + "."};
  if (!read) return {false, "Megatron-Bridge launcher log " + log->string() + " is unreadable."};
  if (!read->samples.empty()) return {true, ""};
  std::string tail = read->last_lines;
  // CloudAI's message is the tail alone; an empty log would leave no reason at all.
  if (trim(tail).empty()) tail = "Megatron-Bridge launcher log " + log->string() + " is empty.";
  return {false, tail};
}

std::string format_mbridge_report(const fs::path& log, const std::vector<StepSample>& samples) {
  if (samples.empty()) {
    return "MegatronBridge report\nNo 'Step Time' / 'GPU utilization' lines were found.\n\n"
           "Searched file:\n  - " +
           log.string() + "\n";
  }
  std::vector<double> step_times, tflops;
  for (const StepSample& s : samples) {
    step_times.push_back(s.step_time_s);
    tflops.push_back(s.tflops_per_gpu);
  }
  std::string out = "Source log: " + log.string() + "\n\n";
  append_stats(out, "Step Time (s)", step_times);
  out += '\n';
  append_stats(out, "TFLOP/s per GPU", tflops);
  return out;
}

void write_mbridge_report(const fs::path& run_dir) {
  auto log = find_launcher_log(run_dir);
  auto read = log ? launcher_log_read(*log) : nullptr;
  write_mbridge_reports(run_dir, log, read.get());
}

void write_mbridge_reports(const fs::path& run_dir, const std::optional<fs::path>& log,
                           const LauncherLogRead* read) {
  if (read) write_training_report(run_dir, *read);
  if (!log) {
    log::error("No Megatron-Bridge launcher log file found: " +
               (run_dir / kReportLogNames[0]).string());
    return;
  }
  if (!read) {
    log::error("Cannot read Megatron-Bridge launcher log " + log->string());
    return;
  }
  const std::vector<StepSample> samples = last_samples(*read);
  const fs::path report = run_dir / "report.txt";
  try {
    write_file_atomic(report, format_mbridge_report(*log, samples));
  } catch (const FileError& e) {
    log::error(e.what());
    return;
  }
  if (samples.empty())
    log::warn("No step metrics found under " + run_dir.string() + " (wrote " + report.string() +
              ")");
}

std::vector<std::string> mbridge_metric_names() {
  return {"default", "step-time", "tflops-per-gpu"};
}

std::map<std::string, double> mbridge_metrics(const LauncherLogRead& read) {
  std::map<std::string, double> out;
  if (read.samples.empty()) return out;
  std::vector<double> step_times, tflops;
  for (const StepSample& s : last_samples(read)) {
    step_times.push_back(s.step_time_s);
    tflops.push_back(s.tflops_per_gpu);
  }
  out["default"] = out["step-time"] = exact_mean(step_times);
  out["tflops-per-gpu"] = exact_mean(tflops);
  return out;
}

namespace {

// The memory lines print gigabytes of 10^9 bytes (bytes / 1e9, train_utils.py); Megatron's
// theoretical footprint prints megabytes of 2^20 bytes (NUM_BYTES_IN_MEGABYTE).
std::optional<double> gib_of_gb(std::optional<double> gb) {
  if (!gb) return std::nullopt;
  return *gb * 1e9 / (1024.0 * 1024.0 * 1024.0);
}
std::optional<double> gib_of_mib(std::optional<double> mib) {
  if (!mib) return std::nullopt;
  return *mib / 1024.0;
}

}  // namespace

MeasuredRun mbridge_measured(const LauncherLogRead& read) {
  MeasuredRun m;
  const std::map<std::string, double> metrics = mbridge_metrics(read);
  if (auto it = metrics.find("step-time"); it != metrics.end()) m.step_time_s = it->second;
  const MemoryFigures& f = read.memory;
  MeasuredMemory mem;
  mem.theoretical_weight_and_optimizer_gib = gib_of_mib(f.theoretical_weight_and_optimizer_mb);
  mem.theoretical_activation_gib = gib_of_mib(f.theoretical_activation_mb);
  mem.theoretical_total_gib = gib_of_mib(f.theoretical_total_mb);
  mem.max_allocated_gib = gib_of_gb(f.max_allocated_gb);
  mem.max_reserved_gib = gib_of_gb(f.max_reserved_gb);
  if (mem.theoretical_weight_and_optimizer_gib || mem.max_allocated_gib || mem.max_reserved_gib)
    m.memory = mem;
  return m;
}

std::optional<double> mbridge_metric(const fs::path& run_dir, std::string_view name) {
  const bool step_time = name == "default" || name == "step-time";
  if (!step_time && name != "tflops-per-gpu") return std::nullopt;
  auto log = find_launcher_log(run_dir);
  if (!log) return std::nullopt;
  auto read = launcher_log_read(*log);
  if (!read || read->samples.empty()) return std::nullopt;
  std::vector<double> values;
  for (const StepSample& s : last_samples(*read))
    values.push_back(step_time ? s.step_time_s : s.tflops_per_gpu);
  return exact_mean(values);
}

}  // namespace bp::mbridge
