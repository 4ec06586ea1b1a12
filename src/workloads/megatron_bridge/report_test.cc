#include "workloads/megatron_bridge/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "testkit/testkit.h"
#include "util/files.h"
#include "util/strings.h"

namespace bp::mbridge {
namespace {

namespace fs = std::filesystem;

constexpr const char* kIterationLine =
    "ain_fp8_mx/0  [2025-12-22 15:18:33] iteration       50/      50 | consumed samples: 25600 | "
    "elapsed time per iteration (ms): 9089.0 | throughput per GPU (TFLOP/s/GPU): 663.5 |\n";

class MbridgeReport : public ::testing::Test {
 protected:
  void write(const std::string& name, const std::string& text) {
    testkit::write_file(dir_ / name, text);
  }
  std::string read(const std::string& name) { return testkit::read_file(dir_ / name); }

  testkit::TempDir dir_;
};

// Twelve steps: step time i s and 600 + 2i TFLOP/s for i = 1..12; the report keeps i = 3..12.
std::string twelve_steps() {
  std::string text = "[NeMo W] some warning\n";
  for (int i = 1; i <= 12; ++i) {
    text += "\x1b[32main_fp8_mx/0\x1b[0m Step Time : " + std::to_string(i) +
            ".0s GPU utilization: " + std::to_string(600 + 2 * i) + ".0MODEL_TFLOP/s/GPU\n";
    text += kIterationLine;
  }
  return text;
}

TEST_F(MbridgeReport, ReportTextForKnownSteps) {
  write("launcher.log", twelve_steps());
  write_mbridge_report(dir_);
  // Last ten step times 3..12: mean 7.5, population variance 82.5 / 10 = 8.25.
  // TFLOP/s 606..624 step 2: mean 615, variance 4 * 8.25 = 33.
  const std::string expected = "Source log: " + (dir_ / "launcher.log").string() +
                               "\n\n"
                               "Step Time (s)\n"
                               "  avg: 7.5\n"
                               "  median: 7.5\n"
                               "  min: 3.0\n"
                               "  max: 12.0\n"
                               "  std: " +
                               python_float(std::sqrt(8.25)) +
                               "\n"
                               "\n"
                               "TFLOP/s per GPU\n"
                               "  avg: 615.0\n"
                               "  median: 615.0\n"
                               "  min: 606.0\n"
                               "  max: 624.0\n"
                               "  std: " +
                               python_float(std::sqrt(33.0)) + "\n";
  EXPECT_EQ(read("report.txt"), expected);
  EXPECT_EQ(python_float(std::sqrt(8.25)), "2.8722813232690143");
}

TEST_F(MbridgeReport, SingleSampleHasZeroStd) {
  write("launcher.log", "Step Time : 9.09s GPU utilization: 663.5MODEL_TFLOP/s/GPU\n");
  write_mbridge_report(dir_);
  std::string report = read("report.txt");
  EXPECT_NE(report.find("Step Time (s)\n  avg: 9.09\n  median: 9.09\n  min: 9.09\n  max: 9.09\n"
                        "  std: 0.0\n"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("TFLOP/s per GPU\n  avg: 663.5\n"), std::string::npos) << report;
}

TEST_F(MbridgeReport, NoStepLinesVariant) {
  write("cloudai_megatron_bridge_launcher.log", "pip install ...\nERROR: launcher failed\n");
  write_mbridge_report(dir_);
  EXPECT_EQ(read("report.txt"),
            "MegatronBridge report\nNo 'Step Time' / 'GPU utilization' lines were found.\n\n"
            "Searched file:\n  - " +
                (dir_ / "cloudai_megatron_bridge_launcher.log").string() + "\n");
}

TEST_F(MbridgeReport, NoLogWritesNothing) {
  write_mbridge_report(dir_);
  EXPECT_FALSE(fs::exists(dir_ / "report.txt"));
}

TEST_F(MbridgeReport, PrefersOurLogName) {
  write("cloudai_megatron_bridge_launcher.log", "Step Time : 1s GPU utilization: 1TFLOP/s/GPU\n");
  write("launcher.log", "Step Time : 2s GPU utilization: 2TFLOP/s/GPU\n");
  EXPECT_EQ(find_launcher_log(dir_), dir_ / "launcher.log");
  EXPECT_EQ(mbridge_metric(dir_, "default"), 2.0);
}

TEST_F(MbridgeReport, VerdictMissingLog) {
  RunVerdict v = mbridge_verdict(dir_);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.message, "Megatron-Bridge launcher log not found in " + dir_.string() + ".");
}

TEST_F(MbridgeReport, VerdictEmptyLog) {
  write("launcher.log", "");
  RunVerdict v = mbridge_verdict(dir_);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.message.find("is empty"), std::string::npos) << v.message;
}

TEST_F(MbridgeReport, VerdictGarbageLogQuotesLastFortyLines) {
  std::string text;
  for (int i = 1; i <= 100; ++i) text += "garbage line " + std::to_string(i) + "\n";
  write("cloudai_megatron_bridge_launcher.log", text);
  RunVerdict v = mbridge_verdict(dir_);
  EXPECT_FALSE(v.ok);
  std::vector<std::string> lines = split(v.message, '\n');
  ASSERT_EQ(lines.size(), 40u);
  EXPECT_EQ(lines.front(), "garbage line 61");
  EXPECT_EQ(lines.back(), "garbage line 100");
}

TEST_F(MbridgeReport, VerdictValidLog) {
  write("launcher.log", twelve_steps());
  RunVerdict v = mbridge_verdict(dir_);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.message, "");
}

TEST_F(MbridgeReport, Metrics) {
  write("launcher.log", twelve_steps());
  EXPECT_EQ(mbridge_metric(dir_, "default"), 7.5);
  EXPECT_EQ(mbridge_metric(dir_, "step-time"), 7.5);
  EXPECT_EQ(mbridge_metric(dir_, "tflops-per-gpu"), 615.0);
  EXPECT_EQ(mbridge_metric(dir_, "throughput"), std::nullopt);
  EXPECT_EQ(mbridge_metric_names(),
            (std::vector<std::string>{"default", "step-time", "tflops-per-gpu"}));
}

TEST_F(MbridgeReport, MetricsWithoutStepLinesOrLog) {
  EXPECT_EQ(mbridge_metric(dir_, "default"), std::nullopt);
  EXPECT_FALSE(mbridge_can_handle(dir_));
  write("launcher.log", "nothing here\n");
  EXPECT_TRUE(mbridge_can_handle(dir_));
  EXPECT_EQ(mbridge_metric(dir_, "default"), std::nullopt);
}

TEST_F(MbridgeReport, ReadLastLinesAcrossBlocks) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += std::string(60, 'x') + std::to_string(i) + "\r\n";
  write("big.log", text);
  std::vector<std::string> lines = split(read_last_lines(dir_ / "big.log", 3), '\n');
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], std::string(60, 'x') + "4997");
  EXPECT_EQ(lines[2], std::string(60, 'x') + "4999");
  // 2000 lines of 66 bytes span several 64 KiB blocks.
  lines = split(read_last_lines(dir_ / "big.log", 2000), '\n');
  ASSERT_EQ(lines.size(), 2000u);
  EXPECT_EQ(lines.front(), std::string(60, 'x') + "3000");
  write("short.log", "a\rb\n\nc");
  EXPECT_EQ(read_last_lines(dir_ / "short.log", 40), "a\nb\n\nc");
  EXPECT_EQ(read_last_lines(dir_ / "missing.log", 40), "");
}

}  // namespace
}  // namespace bp::mbridge
