#include "campaign/journal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>

#include "campaign/campaign.h"
#include "testkit/testkit.h"
#include "util/files.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

class JournalTest : public ::testing::Test {
 protected:
  fs::path path() const { return dir_ / "journal.bpj"; }

  RunRecord record(int step) const {
    RunRecord r;
    r.case_id = "sweep";
    r.step = step;
    r.run_dir = dir_ / "sweep" / "0" / std::to_string(step);
    r.params = {{"cmd_args.tp", Value::integer(2)},
                {"cmd_args.lr", Value::floating(0.1 + step)},
                {"cmd_args.fp8", Value::boolean(true)},
                {"extra_env_vars.X", Value::string("a b")}};
    Value arr = Value::array();
    arr.push_back(Value::integer(1));
    arr.push_back(Value::integer(2));
    r.params.emplace_back("cmd_args.layout", arr);
    r.job_id = std::to_string(100 + step);
    r.state = "COMPLETED";
    r.passed = true;
    r.metrics = {{"step-time", 1.0 / 3 + step}, {"tflops-per-gpu", 412.5}};
    r.workload = "MegatronBridge";
    r.reward = -(1.0 / 3 + step);
    r.attempts = {{"99", "FAILED", 1, 0}, {r.job_id, "COMPLETED", 0, 0}};
    return r;
  }

  testkit::TempDir dir_;
};

TEST_F(JournalTest, RecordsEveryTransitionAndRestoresRecordsExactly) {
  {
    JournalWriter w(path());
    // The new journal's directory entry and the results folder's entry in its parent.
    EXPECT_EQ(w.fsyncs(), 2u);
    // Records flushed before append() returns: what precedes an action a reboot must not
    // forget (the header, a submission, a cancellation, the end); the others only written.
    auto flushes = [&w](auto&& append) {
      const uint64_t before = w.fsyncs();
      append();
      return w.fsyncs() - before;
    };
    CampaignHeader h;
    h.id = "c1";
    h.scenario = "s";
    h.inputs = {{"test_scenario", "/x.toml"}};
    h.case_fingerprints = {{"sweep", "abc"}};
    EXPECT_EQ(flushes([&] { w.header(h); }), 1u);
    PointKey k{"sweep", 0, 3};
    EXPECT_EQ(flushes([&] { w.planned(k); }), 0u);
    EXPECT_EQ(flushes([&] { w.submitting(k, "benchpilot:c1:sweep/0/3", true); }), 1u);
    EXPECT_EQ(flushes([&] { w.submitted(k, "", 4242, 77); }), 0u);
    EXPECT_EQ(flushes([&] { w.submitted(k, "103", 4242, 77); }), 0u);
    EXPECT_EQ(flushes([&] { w.finished(k, 1, record(3), dir_); }), 0u);
    w.planned({"sweep", 0, 4});
    EXPECT_EQ(flushes([&] {
                w.submitting({"sweep", 0, 4}, "benchpilot:c1:sweep/0/4", false);
              }),
              1u);
    EXPECT_EQ(w.records(), 8u);
    EXPECT_EQ(w.fsyncs(), 5u);
  }
  JournalContents c = read_journal(path());
  ASSERT_TRUE(c.header);
  EXPECT_EQ(c.header->id, "c1");
  EXPECT_EQ(c.header->inputs.at("test_scenario"), "/x.toml");
  EXPECT_EQ(c.ignored_lines, 0u);
  const PointState& p3 = c.points.at({"sweep", 0, 3});
  EXPECT_EQ(p3.stage, PointStage::kFinished);
  ASSERT_TRUE(p3.record);
  RunRecord want = record(3);
  EXPECT_EQ(p3.record->run_dir, want.run_dir);
  EXPECT_EQ(p3.record->params, want.params);    // types kept: int, float, bool, string, array
  EXPECT_EQ(p3.record->metrics, want.metrics);  // doubles round-trip exactly
  EXPECT_EQ(p3.record->job_id, "103");
  EXPECT_EQ(p3.record->workload, "MegatronBridge");
  EXPECT_EQ(p3.record->reward, want.reward);
  ASSERT_EQ(p3.record->attempts.size(), 2u);  // a launcher retry survives the resume
  EXPECT_EQ(p3.record->attempts[0].job_id, "99");
  EXPECT_EQ(p3.record->attempts[0].exit_code, 1);
  EXPECT_EQ(p3.record->attempts[1].state, "COMPLETED");
  EXPECT_EQ(p3.submitter_pid, 4242);
  EXPECT_TRUE(p3.self_submitting);
  const PointState& p4 = c.points.at({"sweep", 0, 4});
  EXPECT_EQ(p4.stage, PointStage::kSubmitting);
  EXPECT_EQ(p4.comment, "benchpilot:c1:sweep/0/4");
  EXPECT_EQ(c.batches.at({"sweep", 0}), (std::vector<std::vector<int>>{{3}}));
  EXPECT_FALSE(c.complete);
}

// A cancellation precedes an scancel; the end record closes the campaign: both are flushed.
TEST_F(JournalTest, CancellationAndTheEndAreFlushed) {
  JournalWriter w(path());
  const uint64_t start = w.fsyncs();
  w.cancelled({"sweep", 0, 1});
  EXPECT_EQ(w.fsyncs(), start + 1);
  w.done(0);
  EXPECT_EQ(w.fsyncs(), start + 2);
  JournalWriter reopened(path());  // an existing journal: no directory flush again
  EXPECT_EQ(reopened.fsyncs(), 0u);
}

TEST_F(JournalTest, TornLastRecordIsIgnoredAndCutBeforeAppending) {
  {
    JournalWriter w(path());
    w.planned({"a", 0, 1});
    w.submitting({"a", 0, 1}, "c", false);
  }
  // A crash in the middle of the next write: half a line, no newline.
  { std::ofstream(path(), std::ios::app) << "1234abcd {\"t\":\"submitted\",\"c\":\"a\",\"i\""; }
  JournalContents c = read_journal(path());
  EXPECT_EQ(c.records, 2u);
  EXPECT_EQ(c.ignored_lines, 1u);
  EXPECT_EQ(c.points.at({"a", 0, 1}).stage, PointStage::kSubmitting);
  {
    JournalWriter w(path(), c.valid_bytes);
    w.submitted({"a", 0, 1}, "77", 0, 0);
  }
  JournalContents again = read_journal(path());
  EXPECT_EQ(again.ignored_lines, 0u);
  EXPECT_EQ(again.records, 3u);
  EXPECT_EQ(again.points.at({"a", 0, 1}).job_id, "77");
}

TEST_F(JournalTest, CorruptedChecksumIsSkippedNotFatal) {
  {
    JournalWriter w(path());
    w.planned({"a", 0, 1});
    w.planned({"a", 0, 2});
  }
  std::string text = testkit::read_file(path());
  text[12] = text[12] == 'x' ? 'y' : 'x';  // flip a byte inside the first record
  std::ofstream(path(), std::ios::trunc) << text;
  JournalContents c = read_journal(path());
  EXPECT_EQ(c.records, 1u);
  EXPECT_EQ(c.ignored_lines, 1u);
  EXPECT_FALSE(c.points.count({"a", 0, 1}));
  EXPECT_TRUE(c.points.count({"a", 0, 2}));
}

TEST_F(JournalTest, MissingJournalReadsEmpty) {
  JournalContents c = read_journal(dir_ / "nope.bpj");
  EXPECT_FALSE(c.header);
  EXPECT_EQ(c.records, 0u);
}

std::string journal_error(const std::function<void()>& open) {
  try {
    open();
  } catch (const FileError& e) {
    return e.what();
  }
  return "(opened)";
}

// A journal.bpj that is /dev/zero (through a link) or a FIFO used to hang a resume; now it is
// refused at once, for reading and for appending, and what it points at is not touched.
TEST_F(JournalTest, ANonRegularJournalIsRefusedWithoutHanging) {
  fs::create_symlink("/dev/zero", path());
  EXPECT_THAT(
      journal_error([&] { read_journal(path()); }),
      testing::AllOf(testing::HasSubstr(path().string()), testing::HasSubstr("symbolic link")));
  EXPECT_THAT(journal_error([&] { JournalWriter w(path()); }), testing::HasSubstr("symbolic link"));
  fs::remove(path());
  ASSERT_EQ(::mkfifo(path().c_str(), 0644), 0);
  EXPECT_THAT(journal_error([&] { read_journal(path()); }), testing::HasSubstr("FIFO"));
  EXPECT_THAT(journal_error([&] { JournalWriter w(path()); }),
              testing::HasSubstr("not a regular file"));
}

// No cap: a long campaign's journal may pass the 16 MiB config cap.
TEST_F(JournalTest, AJournalLargerThanTheConfigCapIsRead) {
  {
    JournalWriter w(path());
    w.planned({"a", 0, 1});
  }
  std::string text = testkit::read_file(path());
  const std::string line = text;  // one good record, repeated past the cap
  while (text.size() <= kMaxConfigFileBytes) text += line;
  testkit::write_file(path(), text);
  JournalContents c = read_journal(path());
  EXPECT_EQ(c.records, text.size() / line.size());
  EXPECT_EQ(c.ignored_lines, 0u);
}

TEST(CaseFingerprint, ChangesWithPointsNotWithSecrets) {
  TestRun run;
  run.id = "x";
  run.test.test_template_name = "MegatronBridge";
  Value tp = Value::array();
  tp.push_back(Value::integer(1));
  tp.push_back(Value::integer(2));
  run.test.cmd_args.set("tp", tp);
  run.test.cmd_args.set("hf_token", Value::string("secret-1"));
  const std::string fp = case_fingerprint(run);
  TestRun same = run;
  same.test.cmd_args.set("hf_token", Value::string("secret-2"));
  EXPECT_EQ(case_fingerprint(same), fp);
  TestRun other = run;
  other.test.agent_config.set("random_seed", Value::integer(7));
  EXPECT_NE(case_fingerprint(other), fp);
  TestRun more = run;
  more.test.cmd_args.find("tp")->push_back(Value::integer(4));
  EXPECT_NE(case_fingerprint(more), fp);
}

TEST(ResultsFolder, IsNewEvenWithinTheSameSecond) {
  testkit::TempDir dir;
  Scenario scenario;
  scenario.name = "nightly";
  const fs::path out = dir.path() / "results";  // created on first use
  const fs::path first = create_results_folder(out, scenario, "2026-01-02_03-04-05");
  EXPECT_EQ(first, fs::absolute(out / "nightly_2026-01-02_03-04-05"));
  EXPECT_TRUE(fs::is_directory(first));
  const fs::path second = create_results_folder(out, scenario, "2026-01-02_03-04-05");
  EXPECT_EQ(second.filename(), "nightly_2026-01-02_03-04-05_2");
  EXPECT_EQ(create_results_folder(out, scenario, "2026-01-02_03-04-05").filename(),
            "nightly_2026-01-02_03-04-05_3");
  EXPECT_TRUE(fs::is_directory(second));
}

TEST(ResultsFolder, RefusesAFolderOutsideTheOutputPathAndAnOutputPathThatIsAFile) {
  testkit::TempDir dir;
  Scenario scenario;
  scenario.name = "../escape";
  EXPECT_THROW(create_results_folder(dir.path(), scenario, "t"), ConfigError);
  EXPECT_FALSE(fs::exists(dir.path().parent_path() / "escape_t"));
  scenario.name = "ok";
  testkit::write_file(dir.path() / "file", "x");
  try {
    create_results_folder(dir.path() / "file", scenario, "t");
    FAIL() << "no error for an output path that is a file";
  } catch (const FileError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("cannot create the output folder " +
                                               (dir.path() / "file").string() + ": "));
  }
}

}  // namespace
}  // namespace bp
