#include "workloads/megatron_bridge/launcher_log.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testkit/testkit.h"

namespace bp::mbridge {
namespace {

namespace fs = std::filesystem;

// Lines of every kind the reader looks at, plus near misses, with all three line terminators
// and an anchor in a line's last bytes.
std::string mixed_log() {
  std::string log;
  for (int i = 1; i <= 40; ++i) {
    log += "ain/0 node-001:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via NET/IB/0\n";
    log += "ain/0 STEP TIME : " + std::to_string(1 + i % 3) + ".5s GPU utilization: 6" +
           std::to_string(i) + "0.5MODEL_TFLOP/s/GPU" + (i % 2 ? "\r\n" : "\r");
    log += "straggler: rank 3 step time budget ok\n";
    log += " [2026-01-01] iteration " + std::to_string(i % 7 == 0 ? i - 1 : i) +
           "/40 | elapsed time per iteration (ms): " + std::to_string(1000 + i) +
           ".0 | lm loss: 9.5E+00 | grad norm: " + (i == 5 ? "nan" : "1.25") + " |\n";
    if (i % 10 == 1)
      log += "[Rank " + std::to_string(i) + "] (after " + std::to_string(i) +
             " iterations) memory (GB) | mem-allocated-gigabytes: 4" + std::to_string(i % 10) +
             ".5 | mem-reserved-gigabytes: 61.8 | mem-max-allocated-gigabytes: 5" +
             std::to_string(i % 10) + " | mem-max-reserved-gigabytes: 62.5\n";
    log += "no memory of iteration here\n";
  }
  log +=
      "Theoretical memory footprints: weight and optimizer=1234.5 MB, activation=321.25 MB, "
      "total=1555.75 MB\n";
  log += "Step Time : 2.0s GPU utilization: 700.0TFLOP/s/GPU";  // no terminator
  return log;
}

void expect_same(const LauncherLogRead& a, const LauncherLogRead& b) {
  EXPECT_EQ(a.samples, b.samples);
  ASSERT_EQ(a.iterations.size(), b.iterations.size());
  for (size_t i = 0; i < a.iterations.size(); ++i) {
    EXPECT_EQ(a.iterations[i].iteration, b.iterations[i].iteration);
    EXPECT_EQ(a.iterations[i].step_time_sec, b.iterations[i].step_time_sec);
    EXPECT_EQ(a.iterations[i].present, b.iterations[i].present);
    EXPECT_EQ(a.iterations[i].tflops_per_gpu, b.iterations[i].tflops_per_gpu);
  }
  EXPECT_EQ(a.memory_by_iteration.size(), b.memory_by_iteration.size());
  EXPECT_EQ(a.memory.theoretical_total_mb, b.memory.theoretical_total_mb);
  EXPECT_EQ(a.memory.max_allocated_gb, b.memory.max_allocated_gb);
}

TEST(LauncherLog, SkippingLinesWithoutAnAnchorLosesNothing) {
  const std::string log = mixed_log();
  // Reference: every line fed, no filter.
  LauncherLogParser every_line;
  size_t start = 0;
  for (size_t i = 0; i <= log.size(); ++i) {
    if (i < log.size() && log[i] != '\n' && log[i] != '\r') continue;
    every_line.feed(std::string_view(log).substr(start, i - start));
    start = i + 1;
  }
  LauncherLogRead want = every_line.finish();
  LauncherLogRead got = parse_launcher_log(log);
  expect_same(got, want);
  EXPECT_EQ(got.samples.size(), 41u);
  EXPECT_EQ(std::vector<StepSample>(got.samples.begin(), got.samples.end()), parse_all_steps(log));
}

TEST(LauncherLog, ChunkSizeDoesNotChangeTheRead) {
  testkit::TempDir dir;
  const std::string log = mixed_log();
  const fs::path file = testkit::write_file(dir / "launcher.log", log);
  const LauncherLogRead want = parse_launcher_log(log);
  for (size_t chunk : {1, 2, 3, 7, 64, 100, 4096}) {
    SCOPED_TRACE(chunk);
    auto got = read_launcher_log(file, chunk);
    ASSERT_TRUE(got);
    expect_same(*got, want);
    EXPECT_EQ(std::vector<StepSample>(got->samples.begin(), got->samples.end()),
              *read_all_steps(file, chunk));
  }
  EXPECT_FALSE(read_launcher_log(dir / "missing.log"));
}

TEST(LauncherLog, IterationsOrderedRelaunchKeepsTheLastLine) {
  LauncherLogRead read = parse_launcher_log(mixed_log());
  // i = 7, 14, ... print iteration i - 1 a second time: 40 lines, 35 distinct iterations.
  ASSERT_EQ(read.iterations.size(), 35u);
  for (size_t i = 1; i < read.iterations.size(); ++i)
    EXPECT_LT(read.iterations[i - 1].iteration, read.iterations[i].iteration);
  const IterationLine& six = read.iterations[5];
  ASSERT_EQ(six.iteration, 6);
  EXPECT_DOUBLE_EQ(six.step_time_sec, 1.007);   // the line printed at i = 7 wins
  EXPECT_DOUBLE_EQ(six.tflops_per_gpu, 670.5);  // from the step line just before it
}

TEST(LauncherLog, MemoryFiguresForEstimators) {
  LauncherLogRead read = parse_launcher_log(mixed_log());
  EXPECT_EQ(read.memory.theoretical_weight_and_optimizer_mb, 1234.5);
  EXPECT_EQ(read.memory.theoretical_activation_mb, 321.25);
  EXPECT_EQ(read.memory.theoretical_total_mb, 1555.75);
  EXPECT_EQ(read.memory.max_allocated_gb, 51.0);  // ranks 1, 11, 21, 31 all print 51
  EXPECT_EQ(read.memory.max_reserved_gb, 62.5);
  ASSERT_EQ(read.memory_by_iteration.size(), 4u);
  EXPECT_EQ(read.memory_at(0), nullptr);
  ASSERT_NE(read.memory_at(15), nullptr);
  EXPECT_EQ(read.memory_at(15)->allocated_gb, 41.5);  // the report after iteration 11
  EXPECT_TRUE(parse_launcher_log("iteration 1/2 | elapsed time per iteration (ms): 5 |\n")
                  .memory.theoretical_total_mb == std::nullopt);
}

TEST(LauncherLog, OneReadIsSharedUntilTheLogChanges) {
  testkit::TempDir dir;
  const fs::path file = testkit::write_file(dir / "launcher.log", mixed_log() + "\n");
  auto first = launcher_log_read(file);
  ASSERT_TRUE(first);
  EXPECT_EQ(launcher_log_read(file).get(), first.get());
  std::ofstream(file, std::ios::app) << "Step Time : 3.0s GPU utilization: 1.0TFLOP/s/GPU\n";
  auto second = launcher_log_read(file);
  ASSERT_TRUE(second);
  EXPECT_NE(second.get(), first.get());
  EXPECT_EQ(second->samples.size(), first->samples.size() + 1);
  EXPECT_EQ(launcher_log_read(dir / "missing.log"), nullptr);
  // The reads of other runs in between (a campaign's end reports every run again) do not
  // evict it.
  const fs::path other = testkit::write_file(dir / "other.log", "iteration 1/1 |\n");
  auto other_read = launcher_log_read(other);
  ASSERT_TRUE(other_read);
  EXPECT_EQ(launcher_log_read(file).get(), second.get());
  EXPECT_EQ(launcher_log_read(other).get(), other_read.get());
}

}  // namespace
}  // namespace bp::mbridge
