// Per-step metrics from Megatron-Bridge launcher logs.
//
// A step line is matched exactly like CloudAI's rule (a Python regex searched in every line,
// case-insensitive):
//   Step Time\s*:\s*<num>\s*s.*?GPU utilization:\s*<num>\s*(?:MODEL_)?TFLOP/s/GPU
// with <num> = [0-9]+(\.[0-9]+)?, anywhere in the line (NeMo-Run prefixes such as
// "ain_fp8_mx/0 " and ANSI colour codes before it do not matter). Lines end at \n, \r\n or \r,
// as with Python's universal newlines. Deliberate differences: letters are folded as ASCII
// (Python would also fold e.g. U+017F to "s"), and bytes that are not valid UTF-8 are kept
// (Python's errors="ignore" drops them). `iteration N/M | ... (TFLOP/s/GPU): ...` lines carry
// no "Step Time :" and never match.
//
// The scanner is hand written (no std::regex): a SIMD filter finds "step time" candidates and
// only those lines are parsed, so logs of gigabytes are scanned at memory speed.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bp::mbridge {

struct StepSample {
  double step_time_s = 0;
  double tflops_per_gpu = 0;
  bool operator==(const StepSample&) const = default;
};

// CloudAI summarises only the last 10 step lines of a log.
inline constexpr size_t kCloudaiKeptSteps = 10;
// Read size for streamed files: large enough for few syscalls, small enough to stay in cache.
inline constexpr size_t kDefaultChunkBytes = size_t{1} << 20;

// The sample of one line (its terminator may be present or not); nullopt when it does not match.
std::optional<StepSample> parse_step_line(std::string_view line);

// Every matching line of a text, in order.
std::vector<StepSample> parse_all_steps(std::string_view text);
// The last `keep` matches (CloudAI keeps 10).
std::vector<StepSample> parse_last_steps(std::string_view text, size_t keep = kCloudaiKeptSteps);

// Scans a log that arrives in pieces cut anywhere (also inside a line or a "\r\n"). Whole lines
// are scanned in place; only the line that crosses a cut is copied.
class StepScanner {
 public:
  // keep_last = 0 keeps every sample; otherwise only the last keep_last.
  explicit StepScanner(size_t keep_last = 0) : keep_last_(keep_last) {}

  void feed(std::string_view chunk);
  // Scans the final line when the log does not end with a line terminator.
  void finish();

  // Samples so far, oldest first (after finish(): all of them, or the last keep_last).
  std::vector<StepSample> samples() const;
  // Same, moved out; the scanner is left empty.
  std::vector<StepSample> take_samples();
  // How many lines matched in total, including the ones no longer kept.
  size_t match_count() const { return match_count_; }

 private:
  void scan(std::string_view whole_lines);
  void add(const StepSample& s);

  size_t keep_last_;
  size_t match_count_ = 0;
  std::vector<StepSample> samples_;
  std::string partial_line_;  // text after the last terminator seen
};

// Streams a file through a StepScanner, reading chunk_bytes at a time (never the whole file).
// nullopt when the file cannot be opened or read.
std::optional<std::vector<StepSample>> read_all_steps(const std::filesystem::path& log,
                                                      size_t chunk_bytes = kDefaultChunkBytes);
std::optional<std::vector<StepSample>> read_last_steps(const std::filesystem::path& log,
                                                       size_t keep = kCloudaiKeptSteps,
                                                       size_t chunk_bytes = kDefaultChunkBytes);

}  // namespace bp::mbridge
