// Resume through the real engine and sweep driver, with a scheduler stand-in: a campaign stopped
// mid-sweep (SIGHUP's detach) continues without submitting a point twice and ends with the same
// points as an uninterrupted run.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "campaign/campaign.h"
#include "config/toml_reader.h"
#include "core/executor.h"
#include "engine/engine.h"
#include "testkit/builders.h"
#include "testkit/testkit.h"
#include "util/error.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

// Jobs end COMPLETED on their second poll. `detach_after` submissions in, it asks the engine to
// stop and leave the jobs running, as SIGHUP does. Attached jobs continue where they were.
class StandInScheduler : public Executor {
 public:
  int detach_after = -1;
  int stop_after = -1;                     // like Ctrl-C: the engine cancels what runs
  std::vector<std::string> submitted;      // run dirs, in order
  std::vector<std::string> attached;       // job ids
  std::map<std::string, int>* polls_left;  // shared between sessions: the "cluster"

  explicit StandInScheduler(std::map<std::string, int>* cluster) : polls_left(cluster) {}

  Job submit(const JobRequest& req) override {
    Job j;
    j.handle = ++next_;
    j.id = std::to_string(5000 + polls_left->size());
    j.run_dir = req.run_dir;
    (*polls_left)[j.id] = 2;
    submitted.push_back(req.run_dir.string());
    if (static_cast<int>(submitted.size()) == detach_after) request_engine_detach();
    if (static_cast<int>(submitted.size()) == stop_after) request_engine_stop();
    return j;
  }
  Job attach(const JobRequest& req, bool, const std::string& id, int, unsigned long long) override {
    Job j;
    j.handle = ++next_;
    j.id = id;
    j.run_dir = req.run_dir;
    attached.push_back(id);
    return j;
  }
  void poll(std::vector<Job*>& active) override {
    for (Job* j : active)
      if (--(*polls_left)[j->id] <= 0) j->state = JobState::kCompleted;
  }
  void cancel(Job& j) override { j.state = JobState::kCancelled; }
  std::chrono::milliseconds next_poll_interval(int) const override {
    return std::chrono::milliseconds(1);
  }

 private:
  int next_ = 0;
};

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clear_engine_stop();
    system_.name = "local";
    system_.scheduler = "standalone";
    options_.output_path = dir_ / "results";
  }
  void TearDown() override { clear_engine_stop(); }

  Scenario sweep(const std::string& agent, const std::string& values = "[1, 2, 3, 4, 5, 6, 7, 8]") {
    TestRun r = testkit::sleep_run("sw", 1, values);
    r.test.agent = agent;
    r.test.agent_steps = 5;
    r.test.agent_config = read_toml_string("max_in_flight = 2", "t.toml");
    Scenario s;
    s.name = "sc";
    s.runs = {r};
    return s;
  }

  // Resumes the campaign `cut` stopped (as a new process would: its lock released, no stop
  // pending) with `scheduler`.
  EngineResult resume(const Scenario& s, EngineResult& cut, Executor& scheduler) {
    cut.campaign.reset();  // the lock goes with the process
    clear_engine_stop();
    EngineOptions again = options_;
    again.resume_root = cut.results_root;
    return run_scenario(system_, s, again, &scheduler);
  }

  static std::set<std::string> steps(const std::vector<RunRecord>& records) {
    std::set<std::string> out;
    for (const RunRecord& r : records) out.insert(std::to_string(r.step));
    return out;
  }

  testkit::TempDir dir_;
  System system_;
  EngineOptions options_;
};

TEST_F(ResumeTest, StoppedSweepContinuesWithoutSubmittingAPointTwice) {
  for (const std::string agent : {"grid_search", "random_search", "local_search"}) {
    SCOPED_TRACE(agent);
    clear_engine_stop();
    Scenario s = sweep(agent);
    std::map<std::string, int> cluster;
    // The uninterrupted run, for reference.
    options_.timestamp = agent + "_whole";
    StandInScheduler whole(&cluster);
    EngineResult full = run_scenario(system_, s, options_, &whole);
    ASSERT_EQ(full.exit_code, 0);
    ASSERT_EQ(full.records.size(), 5u);

    // The same campaign, stopped after its third submission (jobs left running).
    options_.timestamp = agent + "_cut";
    StandInScheduler first(&cluster);
    first.detach_after = 3;
    EngineResult cut = run_scenario(system_, s, options_, &first);
    ASSERT_TRUE(cut.detached);
    EXPECT_EQ(first.submitted.size(), 3u);
    EXPECT_LT(cut.records.size(), 5u);
    JournalContents j = read_journal(cut.results_root / kJournalFile);
    EXPECT_FALSE(j.complete);

    StandInScheduler second(&cluster);
    EngineResult resumed = resume(s, cut, second);
    EXPECT_EQ(resumed.exit_code, 0);
    EXPECT_FALSE(resumed.detached);
    // Every point ran exactly once across both sessions; the in-flight ones were re-attached.
    std::vector<std::string> all = first.submitted;
    all.insert(all.end(), second.submitted.begin(), second.submitted.end());
    EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
    EXPECT_EQ(all.size(), 5u);
    EXPECT_EQ(second.attached.size() + cut.records.size(), 3u);
    EXPECT_EQ(resumed.records.size(), 5u);
    if (agent != "local_search")  // adaptive: later proposals depend on completion timing
      EXPECT_EQ(steps(resumed.records), steps(full.records));
    // The trajectory was rewritten in full, one row per point.
    std::ifstream traj(cut.results_root / "sw" / "0" / "trajectory.csv");
    std::string line;
    int rows = -1;  // header
    while (std::getline(traj, line)) ++rows;
    EXPECT_EQ(rows, 5);
  }
}

// The journal keeps a finished point's verdict and metrics; its frozen prediction comes back
// from its folder, so the results table of a resumed campaign shows it too.
TEST_F(ResumeTest, PointsFinishedBeforeTheStopKeepTheirFrozenPrediction) {
  Scenario s = sweep("grid_search");
  std::map<std::string, int> cluster;
  StandInScheduler first(&cluster);
  first.detach_after = 4;
  EngineResult cut = run_scenario(system_, s, options_, &first);
  ASSERT_TRUE(cut.detached);
  ASSERT_FALSE(cut.records.empty());
  FrozenEstimate frozen;
  frozen.estimate.step_time_s = 2.5;
  for (const RunRecord& r : cut.records) write_frozen_estimate(r.run_dir, frozen);

  StandInScheduler second(&cluster);
  EngineResult resumed = resume(s, cut, second);
  ASSERT_EQ(resumed.exit_code, 0);
  for (const RunRecord& done : cut.records) {
    auto again = std::find_if(resumed.records.begin(), resumed.records.end(),
                              [&](const RunRecord& r) { return r.step == done.step; });
    ASSERT_NE(again, resumed.records.end()) << done.step;
    ASSERT_TRUE(again->prediction) << done.step;
    EXPECT_EQ(again->prediction->estimate.step_time_s, 2.5);
  }
}

TEST_F(ResumeTest, ChangedPointsAreRefusedAndASecondProcessIsLockedOut) {
  Scenario s = sweep("grid_search");
  std::map<std::string, int> cluster;
  options_.timestamp = "T";
  StandInScheduler first(&cluster);
  first.detach_after = 1;
  EngineResult cut = run_scenario(system_, s, options_, &first);
  ASSERT_TRUE(cut.detached);
  // Still locked by `cut`.
  EXPECT_THROW(Campaign::reopen(cut.results_root, s), Error);
  cut.campaign.reset();
  Scenario changed = sweep("grid_search", "[1, 2, 3]");
  try {
    Campaign::reopen(cut.results_root, changed);
    FAIL() << "resumed with other points";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("case 'sw' changed"), std::string::npos) << e.what();
  }
  EXPECT_EQ(latest_unfinished_campaign(dir_ / "results", "sc"), cut.results_root);
  EXPECT_NO_THROW(Campaign::reopen(cut.results_root, s));
}

TEST_F(ResumeTest, CancelledPointsRunAgainFromACleanDirectory) {
  Scenario s = sweep("grid_search");
  std::map<std::string, int> cluster;
  options_.timestamp = "T";
  StandInScheduler first(&cluster);
  first.stop_after = 2;  // Ctrl-C: both running points are cancelled
  EngineResult cut = run_scenario(system_, s, options_, &first);
  ASSERT_TRUE(cut.interrupted);
  ASSERT_FALSE(cut.detached);
  StandInScheduler second(&cluster);
  EngineResult resumed = resume(s, cut, second);
  EXPECT_EQ(resumed.exit_code, 0);
  EXPECT_EQ(resumed.records.size(), 5u);
  for (const RunRecord& r : resumed.records) EXPECT_EQ(r.state, "COMPLETED") << r.step;
  EXPECT_TRUE(second.attached.empty());
  EXPECT_EQ(second.submitted.size(), 5u);  // the two cancelled ones again, then the rest
  EXPECT_TRUE(fs::is_directory(cut.results_root / ".superseded" / "sw" / "0" / "1-1"));
  EXPECT_TRUE(fs::is_directory(cut.results_root / ".superseded" / "sw" / "0" / "2-1"));
}

TEST_F(ResumeTest, PlainCaseIterationsResume) {
  TestRun r = testkit::sleep_run("plain", 3);
  Scenario s;
  s.name = "sc";
  s.runs = {r};
  std::map<std::string, int> cluster;
  options_.timestamp = "P";
  StandInScheduler first(&cluster);
  first.detach_after = 2;  // iteration 0 done, iteration 1 submitted
  EngineResult cut = run_scenario(system_, s, options_, &first);
  ASSERT_TRUE(cut.detached);
  ASSERT_EQ(cut.records.size(), 1u);
  StandInScheduler second(&cluster);
  EngineResult resumed = resume(s, cut, second);
  EXPECT_EQ(resumed.exit_code, 0);
  ASSERT_EQ(resumed.records.size(), 3u);
  EXPECT_EQ(second.attached, std::vector<std::string>{"5001"});  // iteration 1's job
  ASSERT_EQ(second.submitted.size(), 1u);                        // iteration 2 only
  EXPECT_NE(second.submitted[0].find("plain/2"), std::string::npos);
}

}  // namespace
}  // namespace bp
