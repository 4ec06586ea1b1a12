// Each command reads a run's launcher log once: generate-report, index and the end of a job in
// `run` each open and scan it exactly one time (util's open_for_scan counts the scans), however
// many of verdict, metrics, samples, charts, report files and the store ask about the run.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "core/judge.h"
#include "core/run_folder.h"
#include "core/workload.h"
#include "report/html_report.h"
#include "report/junit.h"
#include "report/summary.h"
#include "store/indexer.h"
#include "testkit/testkit.h"
#include "util/files.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

class ReadOnceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_ = root_ / "mb" / "0";
    std::string log;
    for (int i = 1; i <= 12; ++i)
      log += "Step Time : " + std::to_string(i) + ".0s GPU utilization: 600.0MODEL_TFLOP/s/GPU\n" +
             " [2026-01-01] iteration " + std::to_string(i) +
             "/12 | elapsed time per iteration (ms): 1000.0 | lm loss: 2.0E+00 |\n";
    log_ = testkit::write_file(run_ / "launcher.log", log);
    testkit::write_file(run_ / "test-run.toml",
                        "name = \"mb\"\nnnodes = 1\ncurrent_iteration = 0\nstep = 0\n"
                        "[test_definition]\nname = \"mb\"\ntest_template_name = "
                        "\"MegatronBridge\"\n[test_definition.cmd_args]\nnum_gpus = 8\n");
    write_job_outcome(run_, JobOutcome{"42", "COMPLETED", "", false});
  }

  // A new command starts with nothing read: a changed modification time is a new log to the
  // read cache, as it is to a new process.
  void next_command() {
    fs::last_write_time(log_, fs::last_write_time(log_) + std::chrono::seconds(++commands_));
  }

  uint64_t scans() const { return scans_of(log_); }

  testkit::TempDir root_;
  fs::path run_, log_;
  int commands_ = 0;
};

TEST_F(ReadOnceTest, GenerateReportScansTheLogOnce) {
  next_command();
  const uint64_t before = scans();
  std::vector<RunRecord> records = collect_results(root_);  // + report.txt, training_report.json
  write_summary(root_, "s", records);
  write_html_report(root_, records, ReportContext{});  // charts from the same read
  write_junit_report("", root_, "s", records);
  EXPECT_EQ(scans() - before, 1u);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].passed) << records[0].message;
  EXPECT_TRUE(fs::exists(run_ / "training_report.json"));
  EXPECT_TRUE(fs::exists(run_ / "report.txt"));
}

TEST_F(ReadOnceTest, IndexScansTheLogOnce) {
  next_command();
  const uint64_t before = scans();
  std::vector<StoredRun> runs = runs_from_results_folder(root_);
  EXPECT_EQ(scans() - before, 1u);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].verdict, "PASSED");
  EXPECT_EQ(runs[0].samples.at("step-time").size(), 10u);
}

// What `run` does with a run at its job's end (JobLoop::judge_ended_job: one read for the report
// files, the verdict and the metrics), then at the campaign's end (the store's records, the
// summary and report.html).
TEST_F(ReadOnceTest, RunScansTheLogOnceAtAJobsEnd) {
  next_command();
  const uint64_t before = scans();
  const Workload* w = workload_of_run_folder(run_);
  ASSERT_NE(w, nullptr);
  const RunRead read = w->read(run_);
  EXPECT_EQ(scans() - before, 1u);  // the job's end: the one scan
  ASSERT_TRUE(read.write_reports);
  read.write_reports();
  EXPECT_EQ(scans() - before, 1u);  // report files from the same parse
  RunRecord rec;
  rec.case_id = "mb";
  rec.run_dir = run_;
  rec.state = "COMPLETED";
  Judgement j = judge(read, JobOutcome{"42", rec.state, "", false});
  rec.passed = j.passed;
  collect_run_results(read, {"default"}, "inverse", rec);
  std::vector<RunRecord> records = {rec};
  runs_from_records(root_, records, IndexContext{});
  write_summary(root_, "s", records);
  write_html_report(root_, records, ReportContext{});
  EXPECT_EQ(scans() - before, 1u);
  EXPECT_TRUE(rec.passed) << j.message;
  EXPECT_EQ(rec.metrics.at("step-time"), 7.5);  // the mean of the last 10 steps, 3..12
}

}  // namespace
}  // namespace bp
