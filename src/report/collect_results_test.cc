#include "report/summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config/toml_reader.h"
#include "loaders/load_scenario.h"
#include "loaders/load_test.h"
#include "report/results_data.h"
#include "testkit/job_records.h"
#include "testkit/testkit.h"
#include "util/files.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kTestRun =
    "name = \"c1\"\ncurrent_iteration = 0\nstep = STEP\n\n[test_definition]\nname = "
    "\"sleep\"\ntest_template_name = \"Sleep\"\n[test_definition.cmd_args]\nseconds = SECONDS\n";

class CollectResultsTest : public ::testing::Test {
 protected:
  void write(const fs::path& rel, const std::string& text) {
    testkit::write_file(root_ / rel, text);
  }
  std::string test_run(int step, int seconds) {
    std::string s = kTestRun;
    s.replace(s.find("STEP"), 4, std::to_string(step));
    s.replace(s.find("SECONDS"), 7, std::to_string(seconds));
    return s;
  }
  Scenario sweep_scenario() {
    tests_.push_back(parse_test_table(read_toml_string(
        "name = 'sleep'\ndescription = 'd'\ntest_template_name = 'Sleep'\n", "t.toml")));
    return parse_scenario_table(
        read_toml_string("name = 's'\n[[Tests]]\nid = 'c1'\ntest_name = 'sleep'\n"
                         "[Tests.cmd_args]\nseconds = [1, 2]\n",
                         "s.toml"),
        tests_, registry_workloads());
  }
  testkit::TempDir root_;
  std::vector<TestDefinition> tests_;
};

// generate-report used to rewrite summary.json with "parameters": {}.
TEST_F(CollectResultsTest, SweepParametersComeBackFromTestRunToml) {
  write("c1/0/1/test-run.toml", test_run(1, 1));
  testkit::write_slurm_job_record(root_ / "c1/0/1", "job_id = 1\nstate = \"COMPLETED\"\n");
  write("c1/0/2/test-run.toml", test_run(2, 2));
  testkit::write_slurm_job_record(root_ / "c1/0/2", "job_id = 2\nstate = \"COMPLETED\"\n");
  Scenario s = sweep_scenario();
  auto records = collect_results(root_, &s);
  ASSERT_EQ(records.size(), 2u);
  for (const RunRecord& r : records) {
    ASSERT_EQ(r.params.size(), 1u) << r.run_dir;
    EXPECT_EQ(r.params[0].first, "seconds");
    EXPECT_EQ(r.params[0].second.as_int(), r.step);
    EXPECT_TRUE(r.passed);
  }
  write_summary(root_, "s", records);
  auto doc = nlohmann::json::parse(read_regular_file(root_ / "summary.json"));
  EXPECT_EQ(doc["runs"][0]["parameters"]["seconds"], 1);
  EXPECT_EQ(doc["runs"][1]["parameters"]["seconds"], 2);
}

// A run folder as 972c231 left it (slurm-job.toml with a launcher's retry, no job-state.toml):
// the verdict, the attempts and the elapsed time read as they did.
TEST_F(CollectResultsTest, AFolderOfAnEarlierReleaseReadsTheSame) {
  write("c1/0/test-run.toml", test_run(0, 1));
  testkit::write_slurm_job_record(
      root_ / "c1/0",
      "job_id = 12\nname = \"c1\"\nstate = \"COMPLETED\"\nexit_code = \"0:0\"\n"
      "start_time = \"2026-11-02T10:00:00\"\nelapsed_time_sec = 90\nsource = \"sacct\"\n"
      "[[earlier_attempts]]\njob_id = \"11\"\nstate = \"NODE_FAIL\"\n");
  auto records = collect_results(root_);
  ASSERT_EQ(records.size(), 1u);
  const RunRecord& r = records[0];
  EXPECT_TRUE(r.passed) << r.message;
  EXPECT_EQ(r.state, "COMPLETED");
  EXPECT_EQ(r.job_id, "12");
  ASSERT_EQ(r.attempts.size(), 2u);
  EXPECT_EQ(r.attempts[0].job_id, "11");
  EXPECT_EQ(r.attempts[0].state, "NODE_FAIL");
  EXPECT_FALSE(r.attempts[0].exit_code);
  EXPECT_EQ(r.attempts[1].job_id, "12");
  EXPECT_EQ(r.attempts[1].exit_code, 0);
  EXPECT_EQ(job_elapsed_seconds(r), 90.0);
  RunRecord built_by_the_engine = r;  // no figure read yet: the report reads the record
  built_by_the_engine.elapsed_seconds.reset();
  EXPECT_EQ(job_elapsed_seconds(built_by_the_engine), 90.0);
  write_summary(root_, "s", records);
  auto doc = nlohmann::json::parse(read_regular_file(root_ / "summary.json"));
  const auto& attempts = doc["runs"][0]["attempts"];
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0],
            nlohmann::json({{"job_id", "11"}, {"state", "NODE_FAIL"}, {"exit_code", nullptr}}));
  EXPECT_EQ(attempts[1],
            nlohmann::json({{"job_id", "12"}, {"state", "COMPLETED"}, {"exit_code", 0}}));
}

// A folder from a killed run (no job state) used to be PASSED.
TEST_F(CollectResultsTest, NoJobStateIsUnknownNotPassed) {
  write("c1/0/test-run.toml", test_run(0, 1));
  auto records = collect_results(root_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_FALSE(records[0].passed);
  EXPECT_EQ(records[0].state, "UNKNOWN");
  EXPECT_THAT(records[0].message, HasSubstr("no job state recorded"));
}

TEST_F(CollectResultsTest, DamagedJobStateIsUnknown) {
  for (const char* bad : {"", "\x01\x02 ===", "state = 5\n", "state = ''\n", "job_id = 3\n"}) {
    write("c1/0/test-run.toml", test_run(0, 1));
    testkit::write_slurm_job_record(root_ / "c1/0", bad);
    auto records = collect_results(root_);
    ASSERT_EQ(records.size(), 1u) << bad;
    EXPECT_FALSE(records[0].passed) << bad;
    EXPECT_EQ(records[0].state, "UNKNOWN") << bad;
  }
}

// A garbage test-run.toml used to drop its run from the report silently.
TEST_F(CollectResultsTest, GarbageTestRunIsReportedNotDropped) {
  write("c1/0/test-run.toml", "\xff\xfe [[[ not toml");
  write("c2/0/test-run.toml", test_run(0, 1));
  testkit::write_slurm_job_record(root_ / "c2/0", "state = \"COMPLETED\"\n");
  auto records = collect_results(root_);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].case_id, "c1/0");
  EXPECT_EQ(records[0].state, "UNKNOWN");
  EXPECT_THAT(records[0].message, HasSubstr("invalid TOML"));
  EXPECT_TRUE(records[1].passed);
}

// A binary log in a failure message used to throw nlohmann's UTF-8 error after summary.json
// had been truncated to 0 bytes.
TEST_F(CollectResultsTest, BinaryTextGivesValidJsonAndKeepsNothingHalfWritten) {
  write("summary.json", "{\"old\": true}\n");
  RunRecord r;
  r.case_id = "c1";
  r.run_dir = root_ / "c1" / "0";
  r.state = "FAILED";
  r.message = std::string("log tail: \xff\xfe\x80 \xc3", 15);
  write_summary(root_, "s", {r});
  auto doc = nlohmann::json::parse(read_regular_file(root_ / "summary.json"));
  EXPECT_THAT(doc["runs"][0]["message"].get<std::string>(), HasSubstr("log tail: \xEF\xBF\xBD"));
  EXPECT_EQ(doc["failed"], 1);
}

}  // namespace
}  // namespace bp
