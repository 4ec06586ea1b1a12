// Reading nccl-tests output (stdout of all_reduce_perf, alltoall_perf, ...): the result table,
// the devices and the footer, in every format from nccl-tests v2.13 to v2.19. A hand-written
// scanner: one pass over the text, no regular expressions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bp::nccl {

// One measurement of one placement (out-of-place or in-place) of a row.
struct Placement {
  double time_us = 0;
  double algbw = 0;              // GB/s
  double busbw = 0;              // GB/s
  std::optional<int64_t> wrong;  // nullopt when checking was off ("N/A")
};

// One data row: a message size.
struct ResultRow {
  int64_t size = 0;  // bytes
  int64_t count = 0;
  std::string type;
  std::string redop;
  int64_t root = -1;
  Placement out_of_place;
  Placement in_place;

  double peak_busbw() const { return std::max(out_of_place.busbw, in_place.busbw); }
};

struct Device {
  int rank = 0;
  std::string host;
  int device = 0;
  std::string name;  // "NVIDIA H100 80GB HBM3"
};

struct Output {
  std::string program;  // from "# Collective test starting: <program>" (v2.17+)
  bool has_table_header = false;
  std::vector<Device> devices;
  std::vector<ResultRow> rows;
  std::optional<int64_t> out_of_bounds;  // "# Out of bounds values : <n> OK|FAILED"
  std::optional<double> avg_busbw;       // "# Avg bus bandwidth : <x>"
  // Lines reporting a failure: "Test NCCL failure", "Test CUDA failure", "Test failure",
  // "Test timeout" (the first few, for messages).
  std::vector<std::string> failure_lines;
  bool nccl_failure = false;  // a "Test NCCL failure" line
  bool test_failure = false;  // any other failure line

  // Nodes that took part (distinct hosts of the device lines, in order).
  std::vector<std::string> hosts() const;
  // The highest bus bandwidth of any row and placement; nullopt without rows.
  std::optional<const ResultRow*> peak_row() const;
  std::optional<double> mean_time(bool in_place) const;
};

// Parses the whole output. Rows are lines that start (after blanks) with a digit and split into
// exactly 13 fields (default mode; rows with timestamps or per-iteration columns are skipped,
// as CloudAI does); a row with a field that is not a number where one is expected is skipped.
Output parse_output(std::string_view text);

// Parses a number as nccl-tests prints it: "49.23", "1234567", "1.2e+07". nullopt otherwise.
std::optional<double> parse_number(std::string_view s);

}  // namespace bp::nccl
