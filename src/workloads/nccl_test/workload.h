// The NcclTest workload: CloudAI's NCCL test template. It runs one nccl-tests program
// (all_reduce_perf_mpi, alltoall_perf, ...) as a batch job, inside the test's container when
// docker_image_url is set, and reports bus bandwidth per message size.
//
// Run directory: env_vars.sh (sourced before the program), stdout.txt (the nccl-tests output),
// report.txt and nccl_test_report.csv (written after the run).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/workload.h"
#include "workloads/nccl_test/output.h"

namespace bp::nccl {

inline constexpr const char* kOutputFile = "stdout.txt";
inline constexpr const char* kEnvFile = "env_vars.sh";
inline constexpr const char* kCsvReport = "nccl_test_report.csv";

// The verdict on an nccl-tests output. In order: CloudAI's rules (failure lines, then both
// footer lines present), then benchpilot's: no wrong elements ("Out of bounds values" 0), and
// the average bus bandwidth at least `min_busbw` when one is given.
RunVerdict judge_output(const Output& out, std::optional<double> min_busbw,
                        const std::string& where);

// report.txt's text.
std::string format_report(const Output& out);

// report.html's charts: bus bandwidth (GB/s) against message size (bytes, log axis), one chart
// for out-of-place and one for in-place; none without rows.
std::vector<ReportSeries> busbw_series(const Output& out);

class NcclTestWorkload : public Workload {
 public:
  // "NcclTest"; metrics "default" and "latency-in-place": mean in-place time (us),
  // "latency-out-of-place" (as CloudAI); "busbw-avg": the footer's average bus bandwidth;
  // "busbw-peak": the highest bus bandwidth of any size and placement (GB/s). Compared by
  // busbw-avg; docker_image_url is the image.
  const WorkloadInfo& info() const override;
  void validate(const TestDefinition& test) const override;
  std::vector<Installable> installables(const TestDefinition& test,
                                        const System& system) const override;
  RunSpec prepare(const RunContext& ctx) const override;
  // One parse of stdout.txt: the verdict (judge_output), metrics, series, per-size details,
  // report.txt and the CSV; the failure details are its failure lines, else the end of
  // stderr.txt.
  RunRead read(const std::filesystem::path& run_dir) const override;
  // A stdout.txt holding an nccl-tests result table.
  bool recognizes(const std::filesystem::path& run_dir) const override;
  std::optional<OutputCheck> output_check(const TestRun& run,
                                          const std::string& output_file) const override;
};

}  // namespace bp::nccl

namespace bp {
const Workload& nccl_test_workload();
}  // namespace bp
