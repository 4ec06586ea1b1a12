#include "workloads/megatron_bridge/training_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "testkit/testkit.h"

namespace bp::mbridge {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

std::string iteration_line(int it, double ms, double loss, double gn, bool throughput = true) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "pus8_gb200/0  [2026-08-21 10:14:03] iteration %8d/      50 | consumed samples: "
                "        6144 | elapsed time per iteration (ms): %.1f | %slearning rate: "
                "1.200000E-05 | global batch size:   512 | lm loss: %E | load_balancing_loss: "
                "1.000312E+00 | loss scale: 1.0 | grad norm: %.3f | number of skipped iterations: "
                "  0 | number of nan iterations:   0 |",
                it, ms, throughput ? "throughput per GPU (TFLOP/s/GPU): 600.5 | " : "", loss, gn);
  return buf;
}

constexpr const char* kMemory1 =
    "[Rank 0] (after 1 iterations) memory (GB) | mem-allocated-gigabytes: 41.377 | "
    "mem-active-gigabytes: 41.377 | mem-reserved-gigabytes: 61.843 | mem-alloc-retires: 0 |";
constexpr const char* kMemory2 =
    "[Rank 3] (after 2 iterations) memory (GB) | mem-allocated-gigabytes: 42 | "
    "mem-reserved-gigabytes: 62 |";

TEST(TrainingSteps, ParsesIterationAndMemoryLines) {
  std::string log = "Step Time : 1.92s GPU utilization: 612.4MODEL_TFLOP/s/GPU\n" +
                    iteration_line(1, 1921.7, 9.873412, 1.733, false) + "\n" + kMemory1 + "\r\n" +
                    iteration_line(2, 1000, 9.5, 1.5) + "\n" + kMemory2 + "\n" +
                    iteration_line(3, 1100, 9.0, 1.2) + "\n";
  auto steps = parse_training_steps(log);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].iteration, 1);
  EXPECT_DOUBLE_EQ(steps[0].step_time_sec, 1.9217);
  EXPECT_DOUBLE_EQ(*steps[0].loss, 9.873412);
  EXPECT_DOUBLE_EQ(*steps[0].grad_norm, 1.733);
  EXPECT_DOUBLE_EQ(*steps[0].tflops_per_gpu, 612.4);  // from the Step Time line before it
  EXPECT_DOUBLE_EQ(*steps[1].tflops_per_gpu, 600.5);  // the line's own throughput field
  EXPECT_DOUBLE_EQ(*steps[0].memory_reserved_bytes, 61.843e9);
  EXPECT_DOUBLE_EQ(*steps[0].memory_allocated_bytes, 41.377e9);
  // Readings carry forward from the latest report at or before the step.
  EXPECT_DOUBLE_EQ(*steps[2].memory_reserved_bytes, 62e9);
}

TEST(TrainingSteps, RelaunchedIterationKeepsTheLastLine) {
  std::string log = iteration_line(1, 5000, 10, 2) + "\n" + iteration_line(1, 1000, 9, 1) + "\n";
  auto steps = parse_training_steps(log);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_DOUBLE_EQ(steps[0].step_time_sec, 1.0);
  EXPECT_FALSE(steps[0].memory_reserved_bytes.has_value());
}

TEST(TrainingSteps, WindowMatchesCloudaiExample) {
  // CloudAI's test: iterations 0-9, exclude 2, profiling 4..5, post 1 -> [2, 3, 7, 8, 9].
  std::vector<TrainingStep> steps;
  for (int i = 0; i < 10; ++i) steps.push_back({i, 1.0, {}, {}, {}, {}, {}});
  StepWindow w;
  w.exclude_start_steps = 2;
  w.exclude_post_profiling_steps = 1;
  w.profiling_enabled = true;
  w.profiling_start_step = 4;
  w.profiling_stop_step = 5;
  std::vector<int64_t> kept;
  for (const TrainingStep& s : filter_steps(steps, w)) kept.push_back(s.iteration);
  EXPECT_THAT(kept, ElementsAre(2, 3, 7, 8, 9));
  w.profiling_enabled = false;
  EXPECT_EQ(filter_steps(steps, w).size(), 8u);
}

TEST(TrainingSteps, StatsMatchPythonStatistics) {
  // statistics.quantiles([1, 2, 3, 4, 10], n=100, method="inclusive")[98] == 9.76, [94] == 8.8
  auto st = metric_stats({4, 2, 10, 1, 3});
  ASSERT_TRUE(st);
  EXPECT_DOUBLE_EQ(st->mean, 4.0);
  EXPECT_DOUBLE_EQ(st->min, 1.0);
  EXPECT_DOUBLE_EQ(st->max, 10.0);
  EXPECT_NEAR(st->std, 3.1622776601683795, 1e-12);
  EXPECT_NEAR(st->t99, 9.76, 1e-12);
  EXPECT_NEAR(st->t95, 8.8, 1e-12);
  EXPECT_DOUBLE_EQ(metric_stats({7})->t99, 7.0);
  EXPECT_FALSE(metric_stats({}).has_value());
}

TEST(TrainingReport, JsonFollowsCloudaiSchemaWithConfigFromYaml) {
  testkit::TempDir dir;
  std::string log;
  for (int i = 1; i <= 8; ++i) {
    log += iteration_line(i, 1000 + i, 10 - i, 1) + "\n";
    if (i == 1) log += std::string(kMemory1) + "\n";
  }
  std::ofstream(dir / "launcher.log") << log;
  std::ofstream(dir / "test-run.toml")
      << "nnodes = 2\n[test_definition.training_report]\nexclude_start_steps = 3\n"
         "[test_definition.cmd_args]\nnum_gpus = 16\nmodel_recipe_name = \"llama3_8b\"\n";
  fs::path cfg = dir / "experiments" / "e" / "configs";
  fs::create_directories(cfg);
  std::ofstream(cfg / "ConfigContainer.yaml")
      << "model:\n  tensor_model_parallel_size: 2\n  pipeline_model_parallel_size: 2\n"
         "  context_parallel_size: 1\n  virtual_pipeline_model_parallel_size: null\n"
         "  sequence_parallel: true\n  normalization: RMSNorm\n  num_layers: '32'\n"
         "train:\n  micro_batch_size: 1\n  global_batch_size: 128\n";
  auto text = format_training_report(dir);
  ASSERT_TRUE(text);
  auto doc = nlohmann::ordered_json::parse(*text);
  std::vector<std::string> keys;
  for (auto& [k, v] : doc.items()) keys.push_back(k);
  EXPECT_THAT(keys, ElementsAre("config", "steps", "aggregation"));
  const auto& c = doc["config"];
  EXPECT_EQ(c.begin().key(), "micro_batch_size");
  EXPECT_EQ(std::prev(c.end()).key(), "test_template_name");
  EXPECT_EQ(c.size(), 31u);
  EXPECT_EQ(c["tensor_parallel_size"], 2);
  EXPECT_EQ(c["data_parallel_size"], 4);  // 16 / (2 * 2 * 1)
  EXPECT_TRUE(c["virtual_pipeline_parallel_size"].is_null());
  EXPECT_EQ(c["sequence_parallel"], true);
  EXPECT_EQ(c["num_layers"], "32");  // quoted in the YAML: a string
  EXPECT_EQ(c["normalization"], "RMSNorm");
  EXPECT_TRUE(c["hidden_size"].is_null());
  EXPECT_EQ(c["world_size"], 16);
  EXPECT_EQ(c["num_nodes"], 2);
  EXPECT_EQ(c["model_name"], "llama3_8b");
  EXPECT_EQ(c["exclude_start_steps"], 3);
  EXPECT_EQ(c["exclude_post_profiling_steps"], 2);
  ASSERT_EQ(doc["steps"].size(), 8u);
  std::vector<std::string> step_keys;
  for (auto& [k, v] : doc["steps"][0].items()) step_keys.push_back(k);
  EXPECT_THAT(step_keys, ElementsAre("iteration", "step_time_sec", "loss", "memory_reserved_bytes",
                                     "memory_allocated_bytes", "tflops_per_gpu", "grad_norm"));
  // Steps 4..8 kept: mean step time 1.006 s.
  EXPECT_NEAR(doc["aggregation"]["step_time_sec"]["mean"].get<double>(), 1.006, 1e-12);
  EXPECT_NEAR(doc["aggregation"]["step_time_sec"]["min"].get<double>(), 1.004, 1e-12);
  EXPECT_DOUBLE_EQ(doc["aggregation"]["memory_reserved_bytes"]["max"].get<double>(), 61.843e9);
}

TEST(TrainingReport, StreamedStepsReadExactlyLikeADumpedDocument) {
  // The steps are formatted one by one (a long run has a million); the text must be what
  // nlohmann's dump(2) writes for the same values: nulls, NaN and inf as null, integral doubles
  // with ".0", shortest round-trip digits.
  testkit::TempDir dir;
  std::string log = std::string(kMemory2) + "\n";
  for (int i = 1; i <= 9; ++i) {
    std::string line = iteration_line(i, 1000.0 / 3 * i, 1.0 / i, 0.1 * i, i % 2 == 0);
    if (i == 4) line += " lm loss: 1 |";  // a duplicate key: the first one counts
    log += line + "\n";
  }
  log += "iteration 10/10 | elapsed time per iteration (ms): 100 | lm loss: nan | grad norm: inf\n";
  testkit::write_file(dir / "launcher.log", log);
  auto text = format_training_report(dir);
  ASSERT_TRUE(text);
  const auto doc = nlohmann::ordered_json::parse(*text);
  EXPECT_EQ(doc.dump(2) + "\n", *text);
  const std::vector<TrainingStep> steps = parse_training_steps(log);
  ASSERT_EQ(doc["steps"].size(), steps.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto& s = doc["steps"][i];
    EXPECT_EQ(s["step_time_sec"].get<double>(), steps[i].step_time_sec);
    if (i == 0) {  // before the first memory report (after iteration 2)
      EXPECT_TRUE(s["memory_reserved_bytes"].is_null());
    } else {
      EXPECT_EQ(s["memory_reserved_bytes"].get<double>(), 62e9);
    }
    if (steps[i].loss && std::isfinite(*steps[i].loss)) {
      EXPECT_EQ(s["loss"].get<double>(), *steps[i].loss);
    }
  }
  EXPECT_NE(text->find("\"memory_reserved_bytes\": 62000000000.0,"), std::string::npos);
  EXPECT_TRUE(doc["steps"][9]["loss"].is_null());       // nan
  EXPECT_TRUE(doc["steps"][9]["grad_norm"].is_null());  // inf
  EXPECT_DOUBLE_EQ(doc["steps"][3]["loss"].get<double>(), 0.25);
  // The file is the same text, written whole.
  write_training_report(dir);
  EXPECT_EQ(testkit::read_file(dir / "training_report.json"), *text);
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(TrainingReport, NothingWithoutIterationLines) {
  testkit::TempDir dir;
  EXPECT_FALSE(format_training_report(dir).has_value());
  std::ofstream(dir / "launcher.log") << "Traceback: crashed before step 1\n";
  EXPECT_FALSE(format_training_report(dir).has_value());
  write_training_report(dir);
  EXPECT_FALSE(fs::exists(dir / "training_report.json"));
}

}  // namespace
}  // namespace bp::mbridge
