#include "report/summary.h"

#include <gtest/gtest.h>

#include <fstream>

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

}  // namespace
}  // namespace bp
