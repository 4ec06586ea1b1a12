#include "engine/engine.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/toml_reader.h"
#include "core/dry_run_executor.h"
#include "core/estimate.h"
#include "core/executor.h"
#include "testkit/builders.h"
#include "testkit/testkit.h"

namespace bp {
namespace {
namespace fs = std::filesystem;
using testkit::sleep_run;

// A scheduler stand-in: jobs go PENDING -> RUNNING -> final state, one step per poll round.
// The final state per case id is configurable. Records the order of events.
class FakeExecutor : public Executor {
 public:
  std::map<std::string, JobState> outcome;       // by case id; default COMPLETED
  std::vector<std::string> events;               // "submit <case>", "end <case>", "cancel <case>"
  std::map<std::string, std::string> comments;   // by job name: the job's comment
  std::map<std::string, bool> frozen_at_submit;  // by job name: estimate.toml was there
  int polls = 0;

  Job submit(const JobRequest& req) override {
    Job j;
    j.handle = ++next_;
    j.id = std::to_string(1000 + next_);
    j.run_dir = req.run_dir;
    names_[j.id] = req.name;
    comments[req.name] = req.comment;
    frozen_at_submit[req.name] = fs::exists(req.run_dir / kFrozenEstimateFile);
    events.push_back("submit " + req.name);
    return j;
  }
  int stop_after_polls = -1;  // asks the engine to stop (as Ctrl-C does) at this poll

  void poll(std::vector<Job*>& active) override {
    ++polls;
    if (polls == stop_after_polls) request_engine_stop();
    for (Job* j : active) {
      if (j->state == JobState::kPending) {
        j->state = JobState::kRunning;
      } else if (j->state == JobState::kRunning) {
        if (cancelled_.count(j->id)) {
          j->state = JobState::kCancelled;
          continue;
        }
        auto it = outcome.find(names_[j->id]);
        j->state = it == outcome.end() ? JobState::kCompleted : it->second;
        if (j->state == JobState::kRunning) continue;  // never ends by itself
        events.push_back("end " + names_[j->id]);
        // A failed batch job leaves its error in stderr.txt, as under Slurm.
        if (j->state != JobState::kCompleted)
          std::ofstream(j->run_dir / "stderr.txt") << "line 1\nboom: " << names_[j->id] << "\n";
      }
    }
  }
  void write_job_metadata(const Job& j) override { metadata_written.insert(names_[j.id]); }
  std::set<std::string> metadata_written;  // case names whose job record was written
  void cancel(Job& j) override {
    events.push_back("cancel " + names_[j.id]);
    cancelled_.insert(j.id);
  }
  std::chrono::milliseconds next_poll_interval(int) const override {
    return std::chrono::milliseconds(1);
  }

 private:
  int next_ = 0;
  std::map<std::string, std::string> names_;
  std::set<std::string> cancelled_;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clear_engine_stop();
    system_.name = "local";
    system_.scheduler = "standalone";
    system_.install_path = dir_ / "install";
    options_.output_path = dir_ / "results";
    options_.timestamp = "T";
  }

  // dry_run: through the executor that submits nothing, set up as `benchpilot dry-run` does.
  EngineResult run(Scenario& s, bool dry_run) {
    options_.journal = !dry_run;
    options_.allow_unsupported_workloads = dry_run;
    return run_scenario(system_, s, options_,
                        dry_run ? static_cast<Executor*>(&dry_exec_) : &exec_);
  }
  // Scenario "sc" with one Megatron-Bridge case "mb" of these cmd_args, its launcher at `commit`.
  static Scenario mbridge_scenario(const std::string& cmd_args, const std::string& commit) {
    Scenario s;
    s.name = "sc";
    TestRun run;
    run.id = "mb";
    run.test.name = "mb";
    run.test.test_template_name = "MegatronBridge";
    run.test.cmd_args = read_toml_string(cmd_args, "t.toml");
    GitRepo repo;
    repo.url = "https://example.com/Megatron-Bridge.git";
    repo.commit = commit;
    run.test.git_repos = {repo};
    s.runs = {run};
    return s;
  }
  size_t index_of(const std::string& event) {
    for (size_t i = 0; i < exec_.events.size(); ++i)
      if (exec_.events[i] == event) return i;
    ADD_FAILURE() << "no event '" << event << "'";
    return 0;
  }

  testkit::TempDir dir_;
  System system_;
  EngineOptions options_;
  FakeExecutor exec_;
  DryRunExecutor dry_exec_;
};

TEST_F(EngineTest, DryRunWritesEveryIterationAndSubmitsNothing) {
  Scenario s;
  s.name = "sc";
  s.runs = {sleep_run("a", 2), sleep_run("b")};
  s.runs[1].dependencies = {{DependencyType::kStartPostComp, "a"}};
  EngineResult r = run(s, true);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.results_root, dir_ / "results" / "sc_T");
  EXPECT_TRUE(fs::exists(r.results_root / "a" / "0" / "test-run.toml"));
  EXPECT_TRUE(fs::exists(r.results_root / "a" / "1" / "test-run.toml"));
  EXPECT_TRUE(fs::exists(r.results_root / "b" / "0" / "test-run.toml"));
  EXPECT_EQ(r.records.size(), 3u);
  for (const RunRecord& rec : r.records) {
    EXPECT_EQ(rec.state, "DRY-RUN");
    EXPECT_FALSE(rec.passed);
    EXPECT_TRUE(rec.job_id.empty());
    // Nothing ran, so nothing was judged: no job-state.toml, no report.
    EXPECT_FALSE(fs::exists(rec.run_dir / "job-state.toml")) << rec.run_dir;
  }
  // Every job went to the dry-run executor, the dependent one too; no journal, no scheduler.
  EXPECT_EQ(dry_exec_.requests().size(), 3u);
  EXPECT_FALSE(fs::exists(r.results_root / "journal.bpj"));
  EXPECT_TRUE(exec_.events.empty());
  Value trt = read_toml_file(r.results_root / "a" / "1" / "test-run.toml");
  EXPECT_EQ(trt.find("current_iteration")->as_int(), 1);
  EXPECT_EQ(trt.find("test_cmd")->as_string(), "sleep 1");
}

TEST_F(EngineTest, WorkloadOnAnUnsupportedSchedulerFailsBeforeWritingAnything) {
  Scenario s;
  s.name = "sc";
  TestRun run;
  run.id = "mb";
  run.test.test_template_name = "MegatronBridge";
  s.runs = {run};
  // system_ is standalone: Megatron-Bridge's launcher needs Slurm.
  try {
    run_scenario(
        system_, s,
        [&] {
          EngineOptions o = options_;
          o.allow_unsupported_workloads = false;
          return o;
        }(),
        &exec_);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("runs only on slurm"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ / "results"));
  EXPECT_TRUE(exec_.events.empty());
}

TEST_F(EngineTest, ExistingResultsFolderIsNeverReused) {
  Scenario s;
  s.name = "sc";
  s.runs = {sleep_run("a")};
  fs::create_directories(dir_ / "results" / "sc_T");
  std::ofstream(dir_ / "results" / "sc_T" / "keep.txt") << "earlier results";
  EngineResult r = run(s, true);
  EXPECT_EQ(r.results_root, dir_ / "results" / "sc_T_2");
  EXPECT_TRUE(fs::exists(dir_ / "results" / "sc_T" / "keep.txt"));
  EXPECT_FALSE(fs::exists(dir_ / "results" / "sc_T" / "a"));
}

TEST_F(EngineTest, DependenciesAndIterationsRunInOrder) {
  Scenario s;
  s.name = "sc";
  s.runs = {sleep_run("first", 2), sleep_run("after_comp"), sleep_run("after_init"),
            sleep_run("watcher")};
  s.runs[1].dependencies = {{DependencyType::kStartPostComp, "first"}};
  s.runs[2].dependencies = {{DependencyType::kStartPostInit, "first"}};
  s.runs[3].dependencies = {{DependencyType::kEndPostComp, "after_comp"}};
  exec_.outcome["watcher"] = JobState::kRunning;  // runs until stopped
  EngineResult r = run(s, false);
  EXPECT_EQ(index_of("submit first"), 0u);
  EXPECT_LT(index_of("end first"), index_of("submit after_comp"));
  // Iterations follow each other: the second starts after the first ended.
  size_t second = 0;
  for (size_t i = index_of("end first") + 1; i < exec_.events.size(); ++i)
    if (exec_.events[i] == "submit first") second = i;
  EXPECT_GT(second, index_of("end first"));
  // start_post_init: started once the parent runs, before it ends.
  EXPECT_LT(index_of("submit after_init"), index_of("end first"));
  // end_post_comp: the watcher is stopped when its parent completes.
  EXPECT_LT(index_of("end after_comp"), index_of("cancel watcher"));
  EXPECT_TRUE(fs::exists(r.results_root / "first" / "1"));
  // Stopping the watcher on purpose is not a failure.
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.records.size(), 5u);
}

TEST_F(EngineTest, JobStatusCheckCancelsTheRestAndFails) {
  Scenario s;
  s.name = "sc";
  s.runs = {sleep_run("bad"), sleep_run("slow")};
  exec_.outcome["bad"] = JobState::kFailed;
  exec_.outcome["slow"] = JobState::kRunning;
  EngineResult r = run(s, false);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_LT(index_of("end bad"), index_of("cancel slow"));
  ASSERT_EQ(r.records.size(), 2u);
  for (const RunRecord& rec : r.records) {
    EXPECT_FALSE(rec.passed);
    if (rec.case_id == "bad") {
      EXPECT_NE(rec.message.find("FAILED"), std::string::npos);
      EXPECT_NE(rec.message.find("boom: bad"), std::string::npos) << rec.message;
    }
    if (rec.case_id == "slow") EXPECT_EQ(rec.state, "CANCELLED");
  }
}

// job_status_check: a case that ended in the same poll round as the failed one is a result: it
// stays in the records (summary.json) and gets its job metadata (the scheduler's job record).
TEST_F(EngineTest, JobStatusCheckKeepsCasesThatFinishedInTheSameRound) {
  Scenario s;
  s.name = "sc";
  s.runs = {sleep_run("bad"), sleep_run("good"), sleep_run("slow")};
  exec_.outcome["bad"] = JobState::kFailed;
  exec_.outcome["slow"] = JobState::kRunning;
  EngineResult r = run(s, false);
  EXPECT_EQ(r.exit_code, 1);
  std::map<std::string, const RunRecord*> by_case;
  for (const RunRecord& rec : r.records) by_case[rec.case_id] = &rec;
  ASSERT_EQ(by_case.size(), 3u);
  ASSERT_TRUE(by_case.count("good"));
  EXPECT_TRUE(by_case["good"]->passed);
  EXPECT_EQ(by_case["good"]->state, "COMPLETED");
  EXPECT_EQ(by_case["slow"]->state, "CANCELLED");
  EXPECT_TRUE(exec_.metadata_written.count("good"));
  EXPECT_TRUE(exec_.metadata_written.count("bad"));
}

TEST_F(EngineTest, WithoutJobStatusCheckOthersStillFinish) {
  Scenario s;
  s.name = "sc";
  s.job_status_check = false;
  s.runs = {sleep_run("bad"), sleep_run("good")};
  exec_.outcome["bad"] = JobState::kTimeout;
  EngineResult r = run(s, false);
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_EQ(r.records.size(), 2u);
  int passed = 0;
  for (const RunRecord& rec : r.records) passed += rec.passed;
  EXPECT_EQ(passed, 1);
}

TEST_F(EngineTest, StopRequestCancelsSubmittedJobs) {
  Scenario s;
  s.name = "sc";
  s.runs = {sleep_run("forever")};
  exec_.outcome["forever"] = JobState::kRunning;
  request_engine_stop();
  EngineResult r = run(s, false);
  clear_engine_stop();
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.exit_code, 130);
  EXPECT_EQ(index_of("submit forever"), 0u);
  index_of("cancel forever");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].state, "CANCELLED");
}

TEST_F(EngineTest, SweepPointsGetStepDirectories) {
  Scenario s;
  s.name = "sc";
  s.runs = {sleep_run("sw")};
  s.runs[0].test.cmd_args = read_toml_string("seconds = [1, 2, 3]", "t.toml");
  EngineResult r = run(s, false);
  EXPECT_EQ(r.exit_code, 0);
  for (int step = 1; step <= 3; ++step)
    EXPECT_TRUE(fs::exists(r.results_root / "sw" / "0" / std::to_string(step) / "test-run.toml"));
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].params.size(), 1u);
  EXPECT_TRUE(fs::exists(r.results_root / "sw" / "0" / "trajectory.csv"));
}

TEST_F(EngineTest, SecretsAreMaskedInTestRunToml) {
  Scenario s = mbridge_scenario(
      "model_family_name = \"llama\"\nmodel_recipe_name = \"llama3_8b\"\n"
      "hf_token = \"hf_SECRET42\"\nwandb_key = \"wb_SECRET43\"\n",
      "v0.3.0");
  system_.workload_settings["launcher_python"] = "/usr/bin/python3";
  EngineResult r = EngineTest::run(s, true);  // dry-run: MegatronBridge on a standalone system
  ASSERT_EQ(r.exit_code, 0);
  for (const auto& e : fs::recursive_directory_iterator(r.results_root)) {
    if (!e.is_regular_file()) continue;
    std::string text = testkit::read_file(e.path());
    EXPECT_EQ(text.find("hf_SECRET42"), std::string::npos) << e.path();
    EXPECT_EQ(text.find("wb_SECRET43"), std::string::npos) << e.path();
  }
  Value trt = read_toml_file(r.results_root / "mb" / "0" / "test-run.toml");
  EXPECT_EQ(trt.find_path("test_definition.cmd_args.hf_token")->as_string(), "***");
}

TEST_F(EngineTest, APredictionIsFrozenBeforeSubmissionButNotInADryRun) {
  Scenario s = mbridge_scenario(
      "model_family_name = \"llama\"\nmodel_recipe_name = \"llama3_8b\"\ngpu_type = \"h100\"\n"
      "num_gpus = 8\ntp = 1\npp = 1\ncp = 1\nvp = 1\nep = 1\nmb = 1\ngb = 64\n",
      "v0.6.0");
  system_.scheduler = "slurm";
  system_.workload_settings["launcher_python"] = "/usr/bin/python3";
  // An earlier run of this model here measured 1.25x its prediction; another version's does not
  // count.
  options_.calibration_runs = {{"local", "h100", "llama3_8b", 1.0, 1.25, "megatron_bridge/3"},
                               {"local", "h100", "llama3_8b", 1.0, 9.0, "megatron_bridge/1"}};
  EngineResult r = EngineTest::run(s, false);
  EXPECT_TRUE(exec_.frozen_at_submit.at("mb"));
  std::optional<FrozenEstimate> f = read_frozen_estimate(r.results_root / "mb" / "0");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->estimate.estimator_version, "megatron_bridge/3");
  EXPECT_GT(f->estimate.step_time_s.value_or(0), 0);
  EXPECT_DOUBLE_EQ(f->step_time_factor, 1.25);

  options_.timestamp = "T2";
  options_.freeze_estimates = false;  // as dry-run sets it
  EngineResult dry = EngineTest::run(s, true);
  EXPECT_TRUE(fs::exists(dry.results_root / "mb" / "0" / "test-run.toml"));
  EXPECT_FALSE(fs::exists(dry.results_root / "mb" / "0" / kFrozenEstimateFile));
}

}  // namespace
}  // namespace bp

namespace bp {
namespace {

std::shared_ptr<const Hook> sleep_hook(const std::string& name, std::vector<std::string> ids) {
  auto hook = std::make_shared<Hook>();
  hook->name = name;
  for (const std::string& id : ids) hook->runs.push_back(sleep_run(id));
  return hook;
}

TEST_F(EngineTest, PreTestRunsBeforeItsCaseAndPostTestAfter) {
  Scenario s;
  s.name = "sc";
  s.runs = {sleep_run("a")};
  s.runs[0].pre_test = sleep_hook("gate", {"check"});
  s.runs[0].post_test = sleep_hook("after", {"cleanup"});
  EngineResult r = run(s, false);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_LT(index_of("end a.pre_test.check"), index_of("submit a"));
  EXPECT_LT(index_of("end a"), index_of("submit a.post_test.cleanup"));
  EXPECT_TRUE(fs::exists(r.results_root / "a" / "0" / "pre_test" / "check" / "test-run.toml"));
  EXPECT_TRUE(fs::exists(r.results_root / "a" / "0" / "post_test" / "cleanup" / "test-run.toml"));
  ASSERT_EQ(r.records.size(), 3u);
  for (const RunRecord& rec : r.records) EXPECT_TRUE(rec.passed) << rec.case_id;
  // Every job of the campaign carries its comment; a hook's names the point it serves, and is
  // never equal to the point's own (a lost-job search by comment cannot confuse them).
  const std::string point = exec_.comments["a"];
  EXPECT_EQ(point.rfind("benchpilot:", 0), 0u) << point;
  EXPECT_EQ(point.substr(point.size() - 4), ":a/0") << point;
  EXPECT_EQ(exec_.comments["a.pre_test.check"], point + ":pre_test:check");
  EXPECT_EQ(exec_.comments["a.post_test.cleanup"], point + ":post_test:cleanup");
}

// Dry-run goes through the same engine as a run: hooks and sweep points are generated in the
// order a run would start them, handed to the executor that submits nothing, and none of them
// counts as failed (a pre-test that did not run does not skip its case).
TEST_F(EngineTest, DryRunOfASweepWithHooksGeneratesEverythingAndSubmitsNothing) {
  Scenario s;
  s.name = "sc";
  s.job_status_check = true;
  s.runs = {sleep_run("sw", 2)};
  s.runs[0].test.cmd_args = read_toml_string("seconds = [1, 2]", "t.toml");
  s.runs[0].pre_test = sleep_hook("gate", {"check"});
  s.runs[0].post_test = sleep_hook("after", {"cleanup"});
  EngineResult r = run(s, true);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.interrupted);
  std::vector<std::string> order;
  for (const RunRecord& rec : r.records) {
    EXPECT_EQ(rec.state, "DRY-RUN") << rec.case_id;
    EXPECT_FALSE(rec.skipped) << rec.case_id;
    order.push_back(rec.case_id + "/" + std::to_string(rec.iteration) + "/" +
                    std::to_string(rec.step));
  }
  // Per point: its pre-test, the point, its post-test; both iterations.
  const std::vector<std::string> point = {"sw.pre_test.check/0/0", "sw/0/1",
                                          "sw.post_test.cleanup/0/0"};
  ASSERT_EQ(order.size(), 12u);
  EXPECT_EQ(std::vector<std::string>(order.begin(), order.begin() + 3), point);
  EXPECT_EQ(order[4], "sw/0/2");
  EXPECT_EQ(order[10], "sw/1/2");
  for (int it = 0; it < 2; ++it)
    for (int step = 1; step <= 2; ++step) {
      fs::path dir = r.results_root / "sw" / std::to_string(it) / std::to_string(step);
      EXPECT_TRUE(fs::exists(dir / "test-run.toml")) << dir;
      EXPECT_TRUE(fs::exists(dir / "pre_test" / "check" / "test-run.toml")) << dir;
      EXPECT_TRUE(fs::exists(dir / "post_test" / "cleanup" / "test-run.toml")) << dir;
      EXPECT_FALSE(fs::exists(dir / "job-state.toml")) << dir;
    }
  EXPECT_EQ(dry_exec_.requests().size(), 12u);
  EXPECT_TRUE(exec_.events.empty());
}

TEST_F(EngineTest, FailedPreTestSkipsItsCaseWithTheReason) {
  Scenario s;
  s.name = "sc";
  s.runs = {sleep_run("a"), sleep_run("b")};
  s.job_status_check = false;
  s.runs[0].pre_test = sleep_hook("gate", {"check"});
  exec_.outcome["a.pre_test.check"] = JobState::kFailed;
  EngineResult r = run(s, false);
  EXPECT_EQ(r.exit_code, 1);
  for (const std::string& e : exec_.events) {
    EXPECT_NE(e, "submit a");
  }
  const RunRecord* skipped = nullptr;
  for (const RunRecord& rec : r.records)
    if (rec.case_id == "a") skipped = &rec;
  ASSERT_NE(skipped, nullptr);
  EXPECT_TRUE(skipped->skipped);
  EXPECT_FALSE(skipped->passed);
  EXPECT_NE(skipped->message.find("pre-test 'gate' failed"), std::string::npos) << skipped->message;
  EXPECT_NE(skipped->message.find("a.pre_test.check"), std::string::npos) << skipped->message;
  // The same judgement from the files alone (generate-report).
  Value job = read_toml_file(r.results_root / "a" / "0" / "job-state.toml");
  EXPECT_EQ(job.find("state")->as_string(), "SKIPPED");
  // b has no hook and still ran.
  EXPECT_GT(index_of("submit b"), 0u);
}

TEST_F(EngineTest, StopWhileWaitingForAPreTestCancelsEverySubmittedJob) {
  Scenario s;
  s.name = "sc";
  s.runs = {sleep_run("busy"), sleep_run("a")};
  s.runs[1].pre_test = sleep_hook("gate", {"check"});
  exec_.outcome["busy"] = JobState::kRunning;  // never ends by itself
  exec_.outcome["a.pre_test.check"] = JobState::kRunning;
  exec_.stop_after_polls = 3;
  EngineResult r = run(s, false);
  EXPECT_EQ(r.exit_code, 130);
  EXPECT_TRUE(r.interrupted);
  EXPECT_GT(index_of("cancel a.pre_test.check"), 0u);
  EXPECT_GT(index_of("cancel busy"), 0u);
  for (const std::string& e : exec_.events) {
    EXPECT_NE(e, "submit a");
  }
}

TEST_F(EngineTest, FailedPreTestUnderJobStatusCheckStartsNothingMore) {
  Scenario s;
  s.name = "sc";
  s.runs = {sleep_run("a"), sleep_run("b")};
  s.runs[0].pre_test = sleep_hook("gate", {"check"});
  s.runs[1].pre_test = s.runs[0].pre_test;
  exec_.outcome["a.pre_test.check"] = JobState::kFailed;
  EngineResult r = run(s, false);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(exec_.events,
            (std::vector<std::string>{"submit a.pre_test.check", "end a.pre_test.check"}));
}

}  // namespace
}  // namespace bp
