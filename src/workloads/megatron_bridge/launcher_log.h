// Everything a Megatron-Bridge launcher log yields, from one streamed pass over it: the step
// lines (verdict, report.txt, metrics, samples, charts), the iteration lines and the memory
// lines (training_report.json), and the memory figures Megatron prints.
//
// A launcher log is gigabytes for a long run (NCCL INFO lines, tens of thousands of steps), so
// it is read in fixed chunks and only the lines that hold an anchor ("step time" in any case,
// "iteration", "memory") are looked at; memory grows with the number of steps, never with the
// log's size in bytes.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/megatron_bridge/metrics.h"

namespace bp::mbridge {

// One `iteration N/M | ...` line, compact (a million of them stay small).
struct IterationLine {
  enum : uint8_t { kLoss = 1, kTflops = 2, kGradNorm = 4 };
  int64_t iteration = 0;
  double step_time_sec = 0;
  double loss = 0, tflops_per_gpu = 0, grad_norm = 0;  // valid where `present` says so
  uint8_t present = 0;
};

// The largest `mem-allocated-gigabytes` / `mem-reserved-gigabytes` over ranks of the
// `[Rank R] (after K iterations) memory (GB) | ...` lines for one K.
struct MemoryReading {
  std::optional<double> allocated_gb, reserved_gb;
};

// The memory figures the log prints, for estimators (all optional: older logs lack them).
struct MemoryFigures {
  // `Theoretical memory footprints: weight and optimizer=X MB[, activation=Y MB, total=Z MB]`
  // (the last such line).
  std::optional<double> theoretical_weight_and_optimizer_mb, theoretical_activation_mb,
      theoretical_total_mb;
  // The largest `mem-max-allocated-gigabytes` / `mem-max-reserved-gigabytes` over all ranks and
  // reports.
  std::optional<double> max_allocated_gb, max_reserved_gb;
};

// How many of the log's last lines a read keeps (a failed verdict quotes them, CloudAI's choice;
// the failure details are the last 20 of them).
inline constexpr int kLastLinesKept = 40;

struct LauncherLogRead {
  std::filesystem::path log;
  // The log's last kLastLinesKept lines joined with "\n", read through the same open file.
  std::string last_lines;
  // Chunked containers: a million entries grow without a reallocation's second copy.
  std::deque<StepSample> samples;  // every step line, in log order
  // Iteration lines ordered by iteration; a repeated iteration (a relaunched attempt) keeps
  // its last line.
  std::deque<IterationLine> iterations;
  std::map<int64_t, MemoryReading> memory_by_iteration;  // K -> readings
  MemoryFigures memory;

  // The reading a step carries: the latest at or before its iteration; nullptr before the first.
  const MemoryReading* memory_at(int64_t iteration) const;
};

// Parses log lines fed one at a time (without terminators) into a LauncherLogRead.
class LauncherLogParser {
 public:
  void feed(std::string_view line);
  LauncherLogRead finish();

 private:
  LauncherLogRead read_;
  std::optional<double> pending_tflops_;  // a Step Time line's figure, for the next iteration
  bool sorted_ = true;
};

// Every line of a text (\n, \r\n and \r end lines), parsed.
LauncherLogRead parse_launcher_log(std::string_view text);

// The last `count` of the lines of `joined` (lines joined with "\n").
std::string last_of_lines(const std::string& joined, int count);

// Reads the log in one streamed pass (util's open_for_scan, so a test counts the scans) and its
// last lines through the same open file; nullopt when it cannot be opened or read.
std::optional<LauncherLogRead> read_launcher_log(const std::filesystem::path& log,
                                                 size_t chunk_bytes = kDefaultChunkBytes);

// The read of `log`, shared by everything one command asks of the same run (verdict, metrics,
// samples, reports, and again the store and report.html at a campaign's end): the reads of the
// last runs are kept, up to kCachedStepBudget lines in all (the newest always), and a log is read
// again only when its identity, size or modification time changed. nullptr when it cannot be
// read.
inline constexpr size_t kCachedStepBudget = 2'000'000;
std::shared_ptr<const LauncherLogRead> launcher_log_read(const std::filesystem::path& log);

}  // namespace bp::mbridge
