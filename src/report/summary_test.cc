#include "report/summary.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/estimate.h"
#include "core/judge.h"
#include "testkit/testkit.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

RunRecord mb_record(int step, double step_time, double tflops, double reward) {
  RunRecord r;
  r.case_id = "c";
  r.step = step;
  r.workload = "MegatronBridge";
  r.state = "COMPLETED";
  r.passed = true;
  r.metrics = {{"step-time", step_time}, {"tflops-per-gpu", tflops}};
  r.reward = reward;
  return r;
}

TEST(ResultsTable, ColumnsComeFromTheWorkloadAndTheBestIsTheHighestReward) {
  // Rewarded on TFLOP/s (identity): step 2 is best although step 1 has the lower step time.
  std::vector<RunRecord> records = {mb_record(1, 1.0, 100, 100), mb_record(2, 1.5, 300, 300),
                                    mb_record(3, 0.5, 900, 900)};
  records[2].passed = false;  // a failed run is never the best
  std::string table = format_results_table(records);
  EXPECT_NE(table.find("step time (s)"), std::string::npos) << table;
  EXPECT_NE(table.find("TFLOP/s/GPU"), std::string::npos) << table;
  EXPECT_NE(table.find("c/0/2 *"), std::string::npos) << table;
  EXPECT_EQ(table.find("c/0/1 *"), std::string::npos) << table;
  EXPECT_EQ(table.find("c/0/3 *"), std::string::npos) << table;
}

TEST(ResultsTable, SleepHasNoMetricColumnsAndSkippedRunsSaySo) {
  RunRecord r;
  r.case_id = "nap";
  r.workload = "Sleep";
  r.state = "SKIPPED";
  r.skipped = true;
  std::string table = format_results_table({r});
  EXPECT_EQ(table.find("step time"), std::string::npos) << table;
  EXPECT_NE(table.find("SKIPPED"), std::string::npos) << table;
}

class CollectTest : public ::testing::Test {
 protected:
  fs::path sleep_run(const std::string& name, const JobOutcome& job) {
    fs::path dir = root_ / name / "0";
    fs::create_directories(dir);
    std::ofstream(dir / "test-run.toml")
        << "name = \"" << name << "\"\ncurrent_iteration = 0\nstep = 0\n"
        << "[test_definition]\nname = \"sleep\"\ntest_template_name = \"Sleep\"\n";
    write_job_outcome(dir, job);
    return dir;
  }
  testkit::TempDir root_;
};

TEST_F(CollectTest, GenerateReportJudgesLikeTheEngine) {
  sleep_run("stopped", {"", "CANCELLED", "", true});  // end_post_comp: not a failure
  sleep_run("failed", {"", "FAILED", "exit 1", false});
  sleep_run("skipped", {"", "SKIPPED", "pre-test 'gate' failed", false});
  std::map<std::string, RunRecord> by_case;
  for (RunRecord& r : collect_results(root_)) by_case[r.case_id] = r;
  ASSERT_EQ(by_case.size(), 3u);
  EXPECT_TRUE(by_case["stopped"].passed);
  EXPECT_FALSE(by_case["failed"].passed);
  EXPECT_NE(by_case["failed"].message.find("ended FAILED (exit 1)"), std::string::npos);
  EXPECT_TRUE(by_case["skipped"].skipped);
  EXPECT_EQ(by_case["skipped"].message, "pre-test 'gate' failed");
}

// The words of a table row, the best run's "*" left out.
std::vector<std::string> split_ws(const std::string& row) {
  std::vector<std::string> out;
  std::istringstream in(row);
  for (std::string word; in >> word;)
    if (word != "*") out.push_back(word);
  return out;
}

// A results folder of Megatron-Bridge runs whose logs print the memory lines; run 0 was
// submitted with a prediction (estimate.toml), run 1 without.
class PredictedTest : public ::testing::Test {
 protected:
  fs::path mb_run(int iteration, double step_time) {
    fs::path dir = root_ / "mb" / std::to_string(iteration);
    std::string log;
    for (int i = 1; i <= 12; ++i)
      log += "Step Time : " + std::to_string(step_time) +
             "s GPU utilization: 600.0MODEL_TFLOP/s/GPU\n [2026-01-01] iteration " +
             std::to_string(i) + "/12 | elapsed time per iteration (ms): 1000.0 |\n";
    log +=
        "Theoretical memory footprints: weight and optimizer=20480.00 MB, activation=10240.00 MB, "
        "total=30720.00 MB\n"
        "[Rank 0] (after 2 iterations) memory (GB) | mem-allocated-gigabytes: 41.377 | "
        "mem-reserved-gigabytes: 61.843 | mem-max-allocated-gigabytes: 55.902 | "
        "mem-max-reserved-gigabytes: 61.843 | mem-alloc-retires: 0\n"
        "[Rank 1] (after 2 iterations) memory (GB) | mem-allocated-gigabytes: 40.0 | "
        "mem-reserved-gigabytes: 50.0 | mem-max-allocated-gigabytes: 45.0 | "
        "mem-max-reserved-gigabytes: 50.0 | mem-alloc-retires: 0\n";
    testkit::write_file(dir / "launcher.log", log);
    testkit::write_file(dir / "test-run.toml", "name = \"mb\"\nnnodes = 1\ncurrent_iteration = " +
                                                   std::to_string(iteration) +
                                                   "\nstep = 0\n[test_definition]\nname = \"mb\"\n"
                                                   "test_template_name = \"MegatronBridge\"\n"
                                                   "[test_definition.cmd_args]\nnum_gpus = 8\n");
    write_job_outcome(dir, JobOutcome{"4" + std::to_string(iteration), "COMPLETED", "", false});
    return dir;
  }

  // Raw 4 s calibrated x 1.25 to 5 s; 50 GiB per GPU.
  static void freeze(const fs::path& dir) {
    FrozenEstimate f;
    f.estimate.estimator_version = "megatron_bridge/2";
    f.estimate.step_time_s = 4.0;
    f.estimate.memory = MemoryEstimate{10, 5, 20, 13, 2, {}};
    f.estimate.gpu_memory_gib = 79.6;
    f.step_time_factor = 1.25;
    write_frozen_estimate(dir, f);
  }

  // The row of `run` in a text table.
  static std::string row_of(const std::string& table, const std::string& run) {
    size_t at = table.find("\n" + run + " ");
    if (at == std::string::npos) return "";
    return table.substr(at + 1, table.find('\n', at + 1) - at - 1);
  }

  testkit::TempDir root_;
};

TEST_F(PredictedTest, TheRunReadCarriesTheLogsMemoryFiguresInGiB) {
  mb_run(0, 6.0);
  std::vector<RunRecord> records = collect_results(root_);
  ASSERT_EQ(records.size(), 1u);
  const MeasuredRun& m = records[0].measured;
  EXPECT_DOUBLE_EQ(m.step_time_s.value_or(0), 6.0);
  ASSERT_TRUE(m.memory);
  // The peak over ranks; gigabytes of 10^9 bytes, megabytes of 2^20.
  EXPECT_NEAR(m.memory->max_allocated_gib.value_or(0), 55.902e9 / (1 << 30), 1e-9);
  EXPECT_NEAR(m.memory->max_reserved_gib.value_or(0), 61.843e9 / (1 << 30), 1e-9);
  EXPECT_DOUBLE_EQ(m.memory->theoretical_weight_and_optimizer_gib.value_or(0), 20.0);
  EXPECT_DOUBLE_EQ(m.memory->theoretical_activation_gib.value_or(0), 10.0);
  EXPECT_DOUBLE_EQ(m.memory->theoretical_total_gib.value_or(0), 30.0);
  EXPECT_FALSE(records[0].prediction);  // no estimate.toml
}

TEST_F(PredictedTest, TheTableShowsPredictedBesideMeasuredAndADashWithoutAPrediction) {
  freeze(mb_run(0, 6.0));
  mb_run(1, 3.0);
  std::vector<RunRecord> records = collect_results(root_);
  ASSERT_EQ(records.size(), 2u);
  std::string table = format_results_table(records);
  for (const std::string& h : prediction_headers())
    EXPECT_NE(table.find(h), std::string::npos) << h << "\n" << table;
  // 5.000 s predicted, 6 s measured: +20.0 %; 50 GiB predicted beside 52.1 and 57.6 measured.
  std::vector<std::string> predicted = split_ws(row_of(table, "mb/0"));
  std::vector<std::string> plain = split_ws(row_of(table, "mb/1"));
  ASSERT_EQ(predicted.size(), 11u) << table;
  EXPECT_EQ(std::vector<std::string>(predicted.begin() + 5, predicted.end() - 1),
            (std::vector<std::string>{"5.000", "+20.0%", "50.0", "52.1", "57.6"}))
      << table;
  ASSERT_EQ(plain.size(), 11u) << table;
  EXPECT_EQ(std::vector<std::string>(plain.begin() + 5, plain.end() - 1),
            (std::vector<std::string>{"-", "-", "-", "-", "-"}))
      << table;

  write_summary(root_, "s", records);
  EXPECT_EQ(testkit::read_file(root_ / "summary.txt"), table);
  auto doc = nlohmann::json::parse(testkit::read_file(root_ / "summary.json"));
  const auto& with = doc["runs"][0];
  ASSERT_TRUE(with.contains("prediction")) << with.dump();
  EXPECT_DOUBLE_EQ(with["prediction"]["step_time_s"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(with["prediction"]["raw_step_time_s"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(with["prediction"]["memory_gib"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(with["prediction"]["measured"]["step_time_error"].get<double>(), 0.2);
  EXPECT_NEAR(with["prediction"]["measured"]["max_allocated_gib"].get<double>(),
              55.902e9 / (1 << 30), 1e-9);
  EXPECT_FALSE(doc["runs"][1].contains("prediction")) << doc["runs"][1].dump();
}

TEST_F(PredictedTest, WithoutAnyPredictionTheTableAndSummaryJsonKeepTheirShape) {
  mb_run(0, 6.0);
  std::vector<RunRecord> records = collect_results(root_);
  std::string table = format_results_table(records);
  EXPECT_EQ(table.find("predicted"), std::string::npos) << table;
  // run, parameters, status, step time, TFLOP/s/GPU, job: the columns of older folders.
  EXPECT_EQ(split_ws(row_of(table, "mb/0")).size(), 6u) << table;
  write_summary(root_, "s", records);
  auto doc = nlohmann::json::parse(testkit::read_file(root_ / "summary.json"));
  EXPECT_FALSE(doc["runs"][0].contains("prediction")) << doc.dump();
}

}  // namespace
}  // namespace bp
