#include "workloads/megatron_bridge/metrics.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "testkit/testkit.h"

namespace bp::mbridge {
namespace {

constexpr const char* kCloudaiSample =
    "ain_fp8_mx/0 Step Time : 9.09s GPU utilization: 663.5MODEL_TFLOP/s/GPU";
constexpr const char* kIterationLine =
    "ain_fp8_mx/0  [2025-12-22 15:18:33] iteration       50/      50 | consumed samples:        "
    "25600 | elapsed time per iteration (ms): 9089.0 | throughput per GPU (TFLOP/s/GPU): 663.5 | "
    "learning rate: 3.000000E-05 | global batch size:   512 | lm loss: 8.114214E+00 |";

std::string step_line(int i) {
  return "ain_fp8_mx/0 Step Time : " + std::to_string(i) +
         ".5s GPU utilization: " + std::to_string(100 + i) + ".25MODEL_TFLOP/s/GPU\n";
}

TEST(ParseStepLine, CloudaiSample) {
  auto s = parse_step_line(kCloudaiSample);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->step_time_s, 9.09);
  EXPECT_DOUBLE_EQ(s->tflops_per_gpu, 663.5);
}

TEST(ParseStepLine, CaseInsensitive) {
  auto s =
      parse_step_line("ain_fp8_mx/0 step time : 9.09S gpu UTILIZATION: 663.5model_tflop/S/gpu");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (StepSample{9.09, 663.5}));
  auto upper = parse_step_line("STEP TIME : 1.5S GPU UTILIZATION: 2.5TFLOP/S/GPU");
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(*upper, (StepSample{1.5, 2.5}));
  // Only letters fold: the space must be a space.
  EXPECT_FALSE(
      parse_step_line(std::string_view("Step\0Time : 1s GPU utilization: 2TFLOP/s/GPU", 44)));
}

TEST(ParseStepLine, WithoutModelPrefix) {
  auto s = parse_step_line("Step Time : 1.25s GPU utilization: 400TFLOP/s/GPU");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (StepSample{1.25, 400.0}));
}

TEST(ParseStepLine, AnsiColouredPrefix) {
  auto s = parse_step_line(
      "\x1b[32main_fp8_mx/0\x1b[0m Step Time : 9.09s GPU utilization: 663.5MODEL_TFLOP/s/GPU\n");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (StepSample{9.09, 663.5}));
}

TEST(ParseStepLine, SpacesAroundNumbers) {
  auto s = parse_step_line(
      "Step Time\t:   12.5 \t s   some text GPU utilization:   700.25   MODEL_TFLOP/s/GPU tail");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (StepSample{12.5, 700.25}));
  // Unicode spaces count as \s too (Python str patterns), here U+00A0.
  auto nbsp = parse_step_line(
      "Step Time :\xc2\xa0"
      "3s GPU utilization: 5TFLOP/s/GPU");
  ASSERT_TRUE(nbsp.has_value());
  EXPECT_EQ(*nbsp, (StepSample{3.0, 5.0}));
}

TEST(ParseStepLine, RejectsWhatTheRegexRejects) {
  EXPECT_FALSE(parse_step_line(kIterationLine));
  EXPECT_FALSE(parse_step_line("Step Time: 9.09s"));                                // no util
  EXPECT_FALSE(parse_step_line("Step Time : 9.09 GPU utilization: 5TFLOP/s/GPU"));  // no "s"
  EXPECT_FALSE(parse_step_line("Step Time : .5s GPU utilization: 5TFLOP/s/GPU"));   // no digit
  EXPECT_FALSE(parse_step_line("Step Time : 9.s GPU utilization: 5TFLOP/s/GPU"));   // "9." only
  EXPECT_FALSE(parse_step_line("StepTime : 9s GPU utilization: 5TFLOP/s/GPU"));
  EXPECT_FALSE(parse_step_line("Step Time : 9s GPU utilization: 5 TFLOPS/GPU"));
  EXPECT_FALSE(parse_step_line("Step Time : 9s GPU utilization : 5TFLOP/s/GPU"));
  EXPECT_FALSE(parse_step_line("GPU utilization: 5TFLOP/s/GPU Step Time : 9s"));
  EXPECT_FALSE(parse_step_line(""));
}

TEST(ParseStepLine, LazySearchTriesLaterCandidates) {
  // The first "GPU utilization:" has no number; the regex moves on to the second one.
  auto s = parse_step_line("Step Time : 2s GPU utilization: n/a GPU utilization: 77.5TFLOP/s/GPU");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (StepSample{2.0, 77.5}));
  // The first "Step Time" fails; a later one on the same line matches.
  auto t = parse_step_line("Step Time : soon; Step Time : 3s GPU utilization: 4TFLOP/s/GPU");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, (StepSample{3.0, 4.0}));
}

TEST(ParseStepLine, MatchDoesNotCrossLines) {
  EXPECT_FALSE(parse_step_line("Step Time : 2s\nGPU utilization: 5TFLOP/s/GPU"));
  EXPECT_TRUE(parse_all_steps("Step Time : 2s\rGPU utilization: 5TFLOP/s/GPU").empty());
}

TEST(ParseSteps, IterationLinesIgnored) {
  std::string text = std::string(kCloudaiSample) + "\n" + kIterationLine + "\n" + kIterationLine;
  auto all = parse_all_steps(text);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], (StepSample{9.09, 663.5}));
}

TEST(ParseSteps, OneMatchPerLine) {
  auto all = parse_all_steps(
      "Step Time : 1s GPU utilization: 2TFLOP/s/GPU Step Time : 3s GPU utilization: "
      "4TFLOP/s/GPU\r\nStep Time : 5s GPU utilization: 6TFLOP/s/GPU");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], (StepSample{1.0, 2.0}));
  EXPECT_EQ(all[1], (StepSample{5.0, 6.0}));
}

TEST(ParseSteps, KeepsLastTen) {
  std::string text;
  for (int i = 1; i <= 25; ++i) text += step_line(i) + kIterationLine + "\n";
  auto last = parse_last_steps(text);
  ASSERT_EQ(last.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_DOUBLE_EQ(last[i].step_time_s, 16 + i + 0.5);
    EXPECT_DOUBLE_EQ(last[i].tflops_per_gpu, 116 + i + 0.25);
  }
  EXPECT_EQ(parse_all_steps(text).size(), 25u);
  EXPECT_EQ(parse_last_steps(text, 3).size(), 3u);
}

TEST(StepScanner, LinesCrossingChunkBoundaries) {
  std::string text;
  for (int i = 1; i <= 40; ++i) {
    text += "\x1b[32main_fp8_mx/0\x1b[0m [NCCL INFO] comm 0x1234 rank " + std::to_string(i) + "\n";
    text += step_line(i);
    text += std::string(kIterationLine) + (i % 2 ? "\r\n" : "\r");
  }
  text += "Step Time : 99s GPU utilization: 1.5TFLOP/s/GPU";  // no final terminator
  const auto expected = parse_all_steps(text);
  ASSERT_EQ(expected.size(), 41u);
  for (size_t chunk : {1u, 2u, 3u, 7u, 16u, 64u, 100u}) {
    StepScanner scanner;
    for (size_t pos = 0; pos < text.size(); pos += chunk)
      scanner.feed(std::string_view(text).substr(pos, chunk));
    scanner.finish();
    EXPECT_EQ(scanner.match_count(), 41u) << "chunk " << chunk;
    EXPECT_EQ(scanner.samples(), expected) << "chunk " << chunk;
  }
}

TEST(StepScanner, KeepLastWhileStreaming) {
  StepScanner scanner(10);
  for (int i = 1; i <= 500; ++i) scanner.feed(step_line(i));
  scanner.finish();
  EXPECT_EQ(scanner.match_count(), 500u);
  auto kept = scanner.samples();
  ASSERT_EQ(kept.size(), 10u);
  EXPECT_DOUBLE_EQ(kept.front().step_time_s, 491.5);
  EXPECT_DOUBLE_EQ(kept.back().step_time_s, 500.5);
}

class ReadStepsFile : public ::testing::Test {
 protected:
  testkit::TempDir dir_;
};

TEST_F(ReadStepsFile, StreamsInSmallChunks) {
  std::string text;
  for (int i = 1; i <= 30; ++i) text += step_line(i) + "[Rank 0] memory (GB) | mem-allocated\n";
  auto path = dir_ / "launcher.log";
  std::ofstream(path) << text;
  auto all = read_all_steps(path, 5);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(*all, parse_all_steps(text));
  auto last = read_last_steps(path, 10, 13);
  ASSERT_TRUE(last.has_value());
  ASSERT_EQ(last->size(), 10u);
  EXPECT_DOUBLE_EQ(last->front().step_time_s, 21.5);
}

TEST_F(ReadStepsFile, MissingFile) {
  EXPECT_FALSE(read_all_steps(dir_ / "nope.log").has_value());
}

}  // namespace
}  // namespace bp::mbridge
