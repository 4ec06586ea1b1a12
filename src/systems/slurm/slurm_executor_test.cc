// SlurmExecutor against a scripted Slurm (FakeCommandRunner). The real-cluster tests are in
// slurm_integration_test.cc.
#include "systems/slurm/slurm_executor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "config/toml_reader.h"
#include "systems/slurm/job_metadata.h"
#include "testkit/fake_command_runner.h"
#include "testkit/testkit.h"
#include "util/error.h"
#include "util/folder_lock.h"

namespace bp {
namespace {

using testkit::FakeCommandRunner;

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testkit::read_file;

// A tiny model of Slurm's command line: a queue (squeue) and an accounting database (sacct).
struct FakeSlurm {
  std::map<std::string, std::string> queue;  // id -> "STATE|reason"
  std::map<std::string, std::string> acct;   // id -> "STATE|exit|reason"
  bool accounting = true;
  std::set<std::string> placeholder;  // ids whose accounting record is still the placeholder
  std::string jobcomp_path;
  int next_id = 100;
  std::vector<std::string> cancelled;
  std::vector<EnvAdditions> sbatch_env;
  std::function<CommandResult(const std::vector<std::string>&)> override_squeue;

  static std::string arg_after(const std::vector<std::string>& argv, const std::string& flag) {
    for (size_t i = 0; i + 1 < argv.size(); ++i)
      if (argv[i] == flag) return argv[i + 1];
    return "";
  }

  CommandResult operator()(const std::vector<std::string>& argv) {
    const std::string& cmd = argv[0];
    if (cmd == "sbatch") {
      std::string id = std::to_string(next_id++);
      queue[id] = "PENDING|None";
      return FakeCommandRunner::ok(id + "\n");
    }
    if (cmd == "squeue") {
      if (override_squeue) return override_squeue(argv);
      auto ids = split(arg_after(argv, "-j"), ',');
      std::string out;
      for (const std::string& id : ids)
        if (queue.count(id)) out += id + "|" + queue[id] + "\n";
      if (ids.size() == 1 && out.empty())
        return FakeCommandRunner::fail("slurm_load_jobs error: Invalid job id specified");
      return FakeCommandRunner::ok(out);
    }
    if (cmd == "sacct") {
      if (!accounting)
        return FakeCommandRunner::fail("sacct: error: Slurm accounting storage is disabled");
      std::string out;
      for (const std::string& id : split(arg_after(argv, "-j"), ',')) {
        if (!acct.count(id)) continue;
        auto f = split(acct[id], '|');  // state, exit, reason
        bool ph = placeholder.count(id) > 0;
        out += id + "|" + (ph ? "allocation" : "job_" + id) + "|" + f[0] + "|" + f[1] + "|" + f[2] +
               "|2026-01-01T00:00:00|2026-01-01T00:00:05|5|node1|" +
               (ph ? "" : "sbatch --parsable x") + "\n";
        out += id + ".batch|batch|" + f[0] + "|" + f[1] +
               "||2026-01-01T00:00:00|2026-01-01T00:00:05|5|node1|\n";
      }
      return FakeCommandRunner::ok(out);
    }
    if (cmd == "scancel") {
      for (size_t i = 1; i < argv.size(); ++i) {
        cancelled.push_back(argv[i]);
        queue[argv[i]] = "CANCELLED|None";
      }
      return FakeCommandRunner::ok("");
    }
    if (cmd == "scontrol" && argv[1] == "show" && argv[2] == "config") {
      return FakeCommandRunner::ok("GresTypes = gpu\nJobCompLoc = " + jobcomp_path +
                                   "\nJobCompType = jobcomp/filetxt\n");
    }
    if (cmd == "scontrol" && argv[1] == "show" && argv[2] == "job") {
      const std::string& id = argv[3];
      if (!queue.count(id))
        return FakeCommandRunner::fail("slurm_load_jobs error: Invalid job id specified");
      auto f = split(queue[id], '|');
      return FakeCommandRunner::ok("JobId=" + id + " JobName=j" + id + "\n   JobState=" + f[0] +
                                   " Reason=None ExitCode=0:0\n   RunTime=00:01:02 " +
                                   "StartTime=2026-01-01T00:00:00 EndTime=2026-01-01T00:01:02\n" +
                                   "   NodeList=node[1-2]\n");
    }
    return FakeCommandRunner::fail(cmd + ": unexpected in this test");
  }
};

class SlurmExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    slurm_.jobcomp_path = (root_ / "jobcomp.txt").string();
    runner_ = std::make_shared<FakeCommandRunner>(
        [this](const std::vector<std::string>& argv) { return slurm_(argv); });
    system_.name = "cluster";
    system_.scheduler = "slurm";
    system_.default_partition = "main";
    system_.monitor_interval = 30;
    options_.retry_pause = milliseconds(10);
    options_.max_retry_pause = milliseconds(40);
    options_.unknown_grace = milliseconds(5000);
    options_.accounting_lag = milliseconds(2000);
    options_.wrapper_grace = milliseconds(5000);
  }

  std::unique_ptr<SlurmExecutor> make() {
    return std::make_unique<SlurmExecutor>(system_, options_, runner_);
  }

  JobRequest request(const std::string& name, const std::string& command,
                     bool self_submitting = false) {
    JobRequest req;
    req.name = name;
    req.run_dir = root_ / name;
    fs::create_directories(req.run_dir);
    req.spec.command = command;
    req.spec.self_submitting = self_submitting;
    return req;
  }

  static std::vector<Job*> pointers(std::vector<Job>& jobs) {
    std::vector<Job*> out;
    for (Job& j : jobs) out.push_back(&j);
    return out;
  }

  testkit::TempDir root_;
  FakeSlurm slurm_;
  std::shared_ptr<FakeCommandRunner> runner_;
  System system_;
  SlurmExecutorOptions options_;
};

TEST_F(SlurmExecutorTest, SubmitWritesTheScriptAndParsesTheId) {
  auto ex = make();
  JobRequest req = request("sleep_0", "sleep 1");
  req.spec.process_env = {{"HF_TOKEN", "hf_top_secret"}};
  Job job = ex->submit(req);
  EXPECT_EQ(job.id, "100");
  EXPECT_EQ(job.state, JobState::kPending);
  EXPECT_EQ(runner_->calls.back(), "sbatch --parsable " + (req.run_dir / "sbatch.sh").string());
  EXPECT_EQ(runner_->last_options.cwd, req.run_dir);
  ASSERT_EQ(runner_->last_options.env.size(), 1u);
  EXPECT_EQ(runner_->last_options.env[0].first, "HF_TOKEN");
  std::string script = read_file(req.run_dir / "sbatch.sh");
  EXPECT_NE(script.find("#SBATCH --job-name=sleep_0"), std::string::npos);
  EXPECT_NE(script.find("bash -c 'sleep 1'"), std::string::npos);
  EXPECT_EQ(script.find("hf_top_secret"), std::string::npos);
}

TEST_F(SlurmExecutorTest, SubmissionErrorFailsTheJobWithSbatchStderr) {
  runner_->set_handler([](const std::vector<std::string>&) {
    return FakeCommandRunner::fail(
        "sbatch: error: Batch job submission failed: Invalid partition name specified");
  });
  Job job = make()->submit(request("bad", "true"));
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_EQ(job.id, "");
  EXPECT_NE(job.reason.find("Invalid partition name specified"), std::string::npos);
  EXPECT_EQ(runner_->count("sbatch"), 1) << "a permanent error is not retried";
}

// A transient sbatch failure is retried with backoff (after checking that it did not
// queue the job after all); past the bound the message keeps the cause.
TEST_F(SlurmExecutorTest, TransientSbatchFailureIsRetriedWithBackoff) {
  int failures = 2;
  runner_->set_handler([&](const std::vector<std::string>& argv) {
    if (argv[0] == "sbatch" && failures-- > 0)
      return FakeCommandRunner::fail(
          "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation");
    if (argv[0] == "squeue" && argv.size() > 4 && argv[3] == "-O")
      return FakeCommandRunner::ok("7|benchpilot:other:x/0/0|PENDING|\n");
    return slurm_(argv);
  });
  JobRequest req = request("flaky", "true");
  req.comment = "benchpilot:c1:flaky/0/0";
  Job job = make()->submit(req);
  EXPECT_EQ(job.state, JobState::kPending) << job.reason;
  EXPECT_EQ(job.id, "100");
  EXPECT_EQ(runner_->count("sbatch"), 3);
  ASSERT_EQ(runner_->sleeps.size(), 2u);
  EXPECT_EQ(runner_->sleeps[0], milliseconds(10));
  EXPECT_EQ(runner_->sleeps[1], milliseconds(20));
}

TEST_F(SlurmExecutorTest, TimedOutSbatchThatQueuedTheJobIsNotSubmittedTwice) {
  bool failed = false;
  runner_->set_handler([&](const std::vector<std::string>& argv) {
    if (argv[0] == "sbatch" && !failed) {
      failed = true;
      slurm_.next_id++;  // Slurm queued job 100 but the answer was lost
      return FakeCommandRunner::fail("sbatch: error: Socket timed out on send/recv operation");
    }
    if (argv[0] == "squeue" && argv.size() > 4 && argv[3] == "-O")
      return FakeCommandRunner::ok(
          "99|benchpilot:c1:a/0/0|CANCELLED|\n"
          "100|benchpilot:c1:a/0/0|PENDING|\n");
    return slurm_(argv);
  });
  JobRequest req = request("a", "true");
  req.comment = "benchpilot:c1:a/0/0";
  Job job = make()->submit(req);
  EXPECT_EQ(job.id, "100");
  EXPECT_EQ(job.state, JobState::kPending);
  EXPECT_EQ(runner_->count("sbatch"), 1);
}

TEST_F(SlurmExecutorTest, SbatchFailingPastTheBoundKeepsTheCause) {
  int calls = 0;
  runner_->set_handler([&](const std::vector<std::string>& argv) {
    if (argv[0] == "sbatch")
      return FakeCommandRunner::fail(++calls == 1
                                         ? "sbatch: error: Socket timed out on send/recv operation"
                                         : "sbatch: error: Unable to contact slurm controller");
    return slurm_(argv);
  });
  Job job = make()->submit(request("down", "true"));
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_EQ(runner_->count("sbatch"), 3);
  EXPECT_NE(job.reason.find("Unable to contact slurm controller"), std::string::npos) << job.reason;
  EXPECT_NE(job.reason.find("first error: sbatch: error: Socket timed out"), std::string::npos)
      << job.reason;
  EXPECT_NE(job.reason.find("after 3 attempts"), std::string::npos) << job.reason;
}

TEST_F(SlurmExecutorTest, GpuDirectivesAreProbedOnce) {
  system_.gpus_per_node = 8;
  auto ex = make();
  Job a = ex->submit(request("a", "true"));
  Job b = ex->submit(request("b", "true"));
  EXPECT_EQ(runner_->count("scontrol show config"), 1);
  EXPECT_NE(read_file(root_ / "a" / "sbatch.sh").find("--gpus-per-node=8"), std::string::npos);
  system_.supports_gpu_directives = false;
  auto ex2 = make();
  ex2->submit(request("c", "true"));
  EXPECT_EQ(read_file(root_ / "c" / "sbatch.sh").find("--gpus-per-node"), std::string::npos);
}

TEST_F(SlurmExecutorTest, PollMapsStatesAndReasons) {
  auto ex = make();
  std::vector<Job> jobs;
  for (const char* n : {"ok", "bad", "cancelled", "oom", "running", "requeued"})
    jobs.push_back(ex->submit(request(n, "true")));
  slurm_.queue["100"] = "COMPLETED|None";
  slurm_.queue["101"] = "FAILED|NonZeroExitCode";
  slurm_.queue["102"] = "CANCELLED|None";
  slurm_.queue["103"] = "OUT_OF_MEMORY|OutOfMemory";
  slurm_.queue["104"] = "RUNNING|None";
  slurm_.queue["105"] = "REQUEUED|BeginTime";
  slurm_.acct["100"] = "COMPLETED|0:0|None";
  slurm_.acct["101"] = "FAILED|3:0|None";
  slurm_.acct["102"] = "CANCELLED by 0|0:0|None";
  slurm_.acct["103"] = "OUT_OF_MEMORY|0:125|None";
  runner_->calls.clear();
  auto active = pointers(jobs);
  ex->poll(active);
  EXPECT_EQ(runner_->calls.size(), 2u);
  EXPECT_EQ(runner_->calls[0], "squeue -h -j 100,101,102,103,104,105 --states=all -o %i|%T|%r");
  EXPECT_EQ(runner_->calls[1],
            "sacct -D -j 100,101,102,103 --format=JobID,JobName,State,ExitCode,Reason,Start,End,"
            "ElapsedRAW,NodeList,SubmitLine -P -n");
  EXPECT_EQ(jobs[0].state, JobState::kCompleted);
  EXPECT_EQ(jobs[0].reason, "");
  EXPECT_EQ(jobs[1].state, JobState::kFailed);
  EXPECT_EQ(jobs[1].reason, "exit 3");
  EXPECT_EQ(jobs[2].state, JobState::kCancelled);
  EXPECT_EQ(jobs[2].reason, "CANCELLED by 0");
  EXPECT_EQ(jobs[3].state, JobState::kOutOfMemory);
  EXPECT_EQ(jobs[4].state, JobState::kRunning);
  EXPECT_EQ(jobs[5].state, JobState::kPending);
  EXPECT_EQ(ex->accounting(), true);
  EXPECT_EQ(ex->call_stats().last_round_calls, 2);
}

TEST_F(SlurmExecutorTest, CallsPerRoundDoNotGrowWithTheJobCount) {
  auto rounds_for = [&](int n) {
    auto ex = make();
    std::vector<Job> jobs;
    for (int i = 0; i < n; ++i)
      jobs.push_back(ex->submit(request("j" + std::to_string(i), "true")));
    for (Job& j : jobs) slurm_.queue[j.id] = "RUNNING|None";
    auto active = pointers(jobs);
    for (int r = 0; r < 3; ++r) ex->poll(active);
    for (Job& j : jobs) {
      slurm_.queue[j.id] = "COMPLETED|None";
      slurm_.acct[j.id] = "COMPLETED|0:0|None";
    }
    ex->poll(active);
    for (Job& j : jobs) EXPECT_EQ(j.state, JobState::kCompleted);
    return ex->call_stats();
  };
  SchedulerCallStats one = rounds_for(1);
  SchedulerCallStats many = rounds_for(40);
  EXPECT_EQ(one.poll_rounds, 4);
  EXPECT_EQ(many.poll_rounds, 4);
  EXPECT_EQ(one.calls_in_polls, many.calls_in_polls);
  EXPECT_EQ(many.max_calls_per_round, 2);
}

TEST_F(SlurmExecutorTest, SingleUnknownIdFallsBackToAccounting) {
  auto ex = make();
  std::vector<Job> jobs{ex->submit(request("a", "true"))};
  slurm_.queue.clear();  // gone from slurmctld (MinJobAge passed)
  slurm_.acct["100"] = "TIMEOUT|0:15|TimeLimit";
  auto active = pointers(jobs);
  ex->poll(active);
  EXPECT_EQ(jobs[0].state, JobState::kTimeout);
  EXPECT_EQ(jobs[0].reason, "TimeLimit");
}

TEST_F(SlurmExecutorTest, WaitsBrieflyForAccountingToCatchUp) {
  auto ex = make();
  std::vector<Job> jobs{ex->submit(request("a", "true"))};
  slurm_.queue["100"] = "FAILED|NonZeroExitCode";
  auto active = pointers(jobs);
  ex->poll(active);
  EXPECT_EQ(jobs[0].state, JobState::kCompleting);
  slurm_.acct["100"] = "FAILED|7:0|None";
  ex->poll(active);
  EXPECT_EQ(jobs[0].state, JobState::kFailed);
  EXPECT_EQ(jobs[0].reason, "exit 7");

  // When accounting never records it, squeue's word is taken after accounting_lag.
  std::vector<Job> more{ex->submit(request("b", "true"))};
  slurm_.queue["101"] = "NODE_FAIL|None";
  auto active2 = pointers(more);
  ex->poll(active2);
  EXPECT_EQ(more[0].state, JobState::kCompleting);
  runner_->advance(milliseconds(2500));
  ex->poll(active2);
  EXPECT_EQ(more[0].state, JobState::kNodeFail);
}

TEST_F(SlurmExecutorTest, TransientErrorsAreRetriedWithBackoff) {
  int failures = 2;
  slurm_.override_squeue = [&](const std::vector<std::string>&) {
    if (failures-- > 0)
      return FakeCommandRunner::fail("squeue: error: Socket timed out on send/recv operation");
    return FakeCommandRunner::ok("100|RUNNING|None\n");
  };
  auto ex = make();
  std::vector<Job> jobs{ex->submit(request("a", "true"))};
  auto active = pointers(jobs);
  ex->poll(active);
  EXPECT_EQ(jobs[0].state, JobState::kRunning);
  EXPECT_EQ(runner_->sleeps, (std::vector<milliseconds>{milliseconds(10), milliseconds(20)}));
  EXPECT_EQ(ex->call_stats().retries, 2);
}

TEST_F(SlurmExecutorTest, SystemTransientPatternsAndPauseAreUsed) {
  slurm_settings(system_).extra_transient_status_errors = {"Zero Bytes were transmitted"};
  slurm_settings(system_).status_retry_pause_seconds = 0;
  options_.retry_pause.reset();
  int failures = 1;
  slurm_.override_squeue = [&](const std::vector<std::string>&) {
    if (failures-- > 0) return FakeCommandRunner::fail("squeue: Zero Bytes were transmitted");
    return FakeCommandRunner::ok("100|RUNNING|None\n");
  };
  auto ex = make();
  std::vector<Job> jobs{ex->submit(request("a", "true"))};
  auto active = pointers(jobs);
  ex->poll(active);
  EXPECT_EQ(jobs[0].state, JobState::kRunning);
  EXPECT_EQ(runner_->sleeps, (std::vector<milliseconds>{milliseconds(0)}));
}

TEST_F(SlurmExecutorTest, PersistentErrorsEndInUnknownNotAnException) {
  int calls_seen = 0;
  slurm_.override_squeue = [&](const std::vector<std::string>&) {
    // Transient at first (retried), then an error that is no hiccup.
    return FakeCommandRunner::fail(++calls_seen < 3
                                       ? "squeue: error: slurm_load_jobs error: Socket timed out"
                                       : "squeue: error: Zero Bytes were transmitted or received");
  };
  options_.max_failed_rounds = 2;
  auto ex = make();
  std::vector<Job> jobs{ex->submit(request("a", "true"))};
  auto active = pointers(jobs);
  ex->poll(active);
  EXPECT_EQ(jobs[0].state, JobState::kPending) << "one bad round is tolerated";
  EXPECT_EQ(runner_->count("squeue"), 3) << "retries are bounded";
  ex->poll(active);
  EXPECT_EQ(jobs[0].state, JobState::kUnknown);
  EXPECT_NE(jobs[0].reason.find("Zero Bytes"), std::string::npos) << jobs[0].reason;
  EXPECT_EQ(ex->lost_scheduler(), "");
  int calls = static_cast<int>(runner_->calls.size());
  ex->poll(active);
  EXPECT_EQ(static_cast<int>(runner_->calls.size()), calls) << "finished jobs are not polled";
}

// A controller that stays down is not a verdict on the jobs: they stay as they were
// and the executor reports the cause so the run can stop resumable.
TEST_F(SlurmExecutorTest, ControllerDownPastTheBoundIsReportedNotTurnedIntoUnknown) {
  bool down = true;
  slurm_.override_squeue = [&](const std::vector<std::string>&) {
    if (down)
      return FakeCommandRunner::fail(
          "squeue: error: Unable to contact slurm controller (connect failure)");
    return FakeCommandRunner::ok("100|PENDING|None\n");
  };
  options_.max_failed_rounds = 2;
  auto ex = make();
  std::vector<Job> jobs{ex->submit(request("a", "true"))};
  auto active = pointers(jobs);
  ex->poll(active);
  EXPECT_EQ(ex->lost_scheduler(), "") << "one bad round is tolerated";
  // Back within the bound: monitoring goes on as if nothing happened.
  down = false;
  ex->poll(active);
  EXPECT_EQ(jobs[0].state, JobState::kPending);
  EXPECT_EQ(ex->lost_scheduler(), "");
  down = true;
  ex->poll(active);
  ex->poll(active);
  EXPECT_EQ(jobs[0].state, JobState::kPending) << "not UNKNOWN: the job may well be running";
  EXPECT_NE(ex->lost_scheduler().find("Unable to contact slurm controller"), std::string::npos)
      << ex->lost_scheduler();
  EXPECT_NE(ex->lost_scheduler().find("2 monitoring rounds"), std::string::npos)
      << ex->lost_scheduler();
  EXPECT_EQ(runner_->sleeps.size(), 6u) << "each failed call is retried, bounded";
}

TEST_F(SlurmExecutorTest, JobNobodyKnowsBecomesUnknownAfterTheGrace) {
  auto ex = make();
  std::vector<Job> jobs{ex->submit(request("a", "true"))};
  slurm_.queue.clear();
  auto active = pointers(jobs);
  ex->poll(active);
  EXPECT_FALSE(is_terminal(jobs[0].state));
  runner_->advance(milliseconds(3000));
  ex->poll(active);
  EXPECT_FALSE(is_terminal(jobs[0].state));
  runner_->advance(milliseconds(3000));
  ex->poll(active);
  EXPECT_EQ(jobs[0].state, JobState::kUnknown);
  EXPECT_NE(jobs[0].reason.find("no longer knows job 100"), std::string::npos);
}

TEST_F(SlurmExecutorTest, WithoutAccountingUsesTheJobCompletionLog) {
  slurm_.accounting = false;
  auto ex = make();
  std::vector<Job> jobs{ex->submit(request("a", "true")), ex->submit(request("b", "true"))};
  slurm_.queue.clear();
  std::ofstream(slurm_.jobcomp_path)
      << "JobId=99 UserId=x(1) Name=other JobState=COMPLETED ExitCode=0:0\n"
      << "JobId=100 UserId=root(0) Name=a JobState=FAILED Partition=main ExitCode=2:0\n"
      << "JobId=101 UserId=root(0) Name=b JobState=TIMEOUT";  // line still being written
  auto active = pointers(jobs);
  ex->poll(active);
  EXPECT_EQ(ex->accounting(), false);
  EXPECT_EQ(jobs[0].state, JobState::kFailed);
  EXPECT_EQ(jobs[0].reason, "exit 2");
  EXPECT_FALSE(is_terminal(jobs[1].state));
  std::ofstream(slurm_.jobcomp_path, std::ios::app) << " ExitCode=0:15\n";
  int sacct_calls = runner_->count("sacct");
  std::vector<Job*> rest{&jobs[1]};
  ex->poll(rest);
  EXPECT_EQ(jobs[1].state, JobState::kTimeout);
  EXPECT_EQ(runner_->count("sacct"), sacct_calls) << "sacct is not asked again";
  EXPECT_EQ(runner_->count("scontrol show config"), 1);
}

TEST_F(SlurmExecutorTest, UnknownStateKeepsTheJobWatched) {
  auto ex = make();
  std::vector<Job> jobs{ex->submit(request("a", "true"))};
  slurm_.queue["100"] = "FROBNICATING|None";
  auto active = pointers(jobs);
  ex->poll(active);
  EXPECT_EQ(jobs[0].state, JobState::kRunning);
}

TEST_F(SlurmExecutorTest, CancelRunsScancel) {
  auto ex = make();
  Job job = ex->submit(request("a", "sleep 100"));
  ex->cancel(job);
  EXPECT_EQ(slurm_.cancelled, (std::vector<std::string>{"100"}));
  EXPECT_EQ(job.state, JobState::kCancelled);
  ex->cancel(job);
  EXPECT_EQ(slurm_.cancelled.size(), 1u) << "cancelling a finished job does nothing";
}

TEST_F(SlurmExecutorTest, MetadataFromSacct) {
  auto ex = make();
  std::vector<Job> jobs{ex->submit(request("a", "echo hi"))};
  slurm_.queue["100"] = "COMPLETED|None";
  slurm_.acct["100"] = "COMPLETED|0:0|None";
  auto active = pointers(jobs);
  ex->poll(active);
  int sacct_calls = runner_->count("sacct");
  ex->write_job_metadata(jobs[0]);
  EXPECT_EQ(runner_->count("sacct"), sacct_calls) << "the poll's sacct rows are reused";
  Value doc = read_toml_file(root_ / "a" / "slurm-job.toml");
  EXPECT_EQ(doc.find("job_id")->as_int(), 100);
  EXPECT_EQ(doc.find("name")->as_string(), "job_100");
  EXPECT_EQ(doc.find("state")->as_string(), "COMPLETED");
  EXPECT_EQ(doc.find("exit_code")->as_string(), "0:0");
  EXPECT_EQ(doc.find("elapsed_time_sec")->as_int(), 5);
  EXPECT_EQ(doc.find("start_time")->as_string(), "2026-01-01T00:00:00");
  EXPECT_EQ(doc.find("end_time")->as_string(), "2026-01-01T00:00:05");
  EXPECT_EQ(doc.find("submit_line")->as_string(), "sbatch --parsable x");
  EXPECT_EQ(doc.find("command")->as_string(), "echo hi");
  EXPECT_EQ(doc.find("source")->as_string(), "sacct");
  ASSERT_EQ(doc.find("job_steps")->size(), 1u);
  EXPECT_EQ(doc.find("job_steps")->items()[0].find("step_id")->as_string(), "batch");
}

// A node set DOWN under a running job: Slurm requeues it (same id) and it passes on
// the next run. The first run is recorded as an earlier attempt, not lost.
TEST_F(SlurmExecutorTest, RequeueAfterNodeFailureIsRecordedAsAnEarlierAttempt) {
  runner_->set_handler([&](const std::vector<std::string>& argv) {
    if (argv[0] == "sacct")
      return FakeCommandRunner::ok(
          "100|job_100|NODE_FAIL|0:0|None|2026-01-01T00:00:00|2026-01-01T00:00:02|2|node1|sbatch "
          "x\n"
          "100.batch|batch|CANCELLED|0:15||2026-01-01T00:00:00|2026-01-01T00:00:02|2|node1|\n"
          "100|job_100|COMPLETED|0:0|None|2026-01-01T00:00:09|2026-01-01T00:00:14|5|node2|sbatch "
          "x\n"
          "100.batch|batch|COMPLETED|0:0||2026-01-01T00:00:09|2026-01-01T00:00:14|5|node2|\n");
    return slurm_(argv);
  });
  auto ex = make();
  std::vector<Job> jobs{ex->submit(request("a", "true"))};
  slurm_.queue["100"] = "COMPLETED|None";
  auto active = pointers(jobs);
  ex->poll(active);
  ASSERT_EQ(jobs[0].state, JobState::kCompleted) << jobs[0].reason;
  ASSERT_EQ(jobs[0].earlier_attempts.size(), 1u);
  EXPECT_EQ(jobs[0].earlier_attempts[0].id, "100");
  EXPECT_EQ(jobs[0].earlier_attempts[0].state, JobState::kNodeFail);
  ex->write_job_metadata(jobs[0]);
  Value doc = read_toml_file(root_ / "a" / "slurm-job.toml");
  EXPECT_EQ(doc.find("state")->as_string(), "COMPLETED");
  EXPECT_EQ(doc.find("node_list")->as_string(), "node2");
  ASSERT_EQ(doc.find("job_steps")->size(), 1u);
  EXPECT_EQ(doc.find("job_steps")->items()[0].find("state")->as_string(), "COMPLETED");
  ASSERT_TRUE(doc.find("earlier_attempts"));
  ASSERT_EQ(doc.find("earlier_attempts")->size(), 1u);
  EXPECT_EQ(doc.find("earlier_attempts")->items()[0].find("state")->as_string(), "NODE_FAIL");
  // Read back as the reports and the store read it: both runs, the last one's figures.
  std::optional<JobRecord> record = read_slurm_job_record(root_ / "a");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, "COMPLETED");
  EXPECT_EQ(record->elapsed_seconds, 5.0);
  EXPECT_EQ(record->start_time, "2026-01-01T00:00:09");
  ASSERT_EQ(record->attempts.size(), 2u);
  EXPECT_EQ(record->attempts[0].job_id, "100");
  EXPECT_EQ(record->attempts[0].state, "NODE_FAIL");
  EXPECT_EQ(record->attempts[1].state, "COMPLETED");
  EXPECT_EQ(record->attempts[1].exit_code, 0);
}

TEST_F(SlurmExecutorTest, MetadataWhileAccountingHoldsAPlaceholder) {
  auto ex = make();
  Job job = ex->submit(request("a", "true"));
  slurm_.queue["100"] = "COMPLETED|None";
  slurm_.acct["100"] = "COMPLETED|0:0|None";
  slurm_.placeholder.insert("100");
  ex->write_job_metadata(job);
  Value doc = read_toml_file(root_ / "a" / "slurm-job.toml");
  EXPECT_EQ(doc.find("source")->as_string(), "sacct");
  EXPECT_EQ(doc.find("name")->as_string(), "a") << "the name benchpilot gave the job";
  EXPECT_EQ(doc.find("submit_line")->as_string(),
            "sbatch --parsable " + (root_ / "a" / "sbatch.sh").string());
  EXPECT_EQ(runner_->count("scontrol show job"), 0);

  // A self-submitted job's name is only known to Slurm.
  Job wrapped = ex->submit(request("w", "echo 'Submitted batch job 300'", true));
  slurm_.queue["300"] = "COMPLETED|None";
  slurm_.acct["300"] = "COMPLETED|0:0|None";
  slurm_.placeholder.insert("300");
  std::vector<Job*> active{&wrapped};
  for (int i = 0; i < 500 && !is_terminal(wrapped.state); ++i) {
    ex->poll(active);
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(wrapped.state, JobState::kCompleted);
  ex->write_job_metadata(wrapped);
  EXPECT_EQ(read_toml_file(root_ / "w" / "slurm-job.toml").find("name")->as_string(), "j300");
}

TEST_F(SlurmExecutorTest, MetadataFromScontrolWithoutAccounting) {
  slurm_.accounting = false;
  auto ex = make();
  Job job = ex->submit(request("a", "true"));
  slurm_.queue["100"] = "COMPLETED|None";
  ex->write_job_metadata(job);
  Value doc = read_toml_file(root_ / "a" / "slurm-job.toml");
  EXPECT_EQ(doc.find("source")->as_string(), "scontrol");
  EXPECT_EQ(doc.find("name")->as_string(), "j100");
  EXPECT_EQ(doc.find("elapsed_time_sec")->as_int(), 62);
  EXPECT_EQ(doc.find("node_list")->as_string(), "node[1-2]");
  EXPECT_EQ(doc.find("submit_line")->as_string(),
            "sbatch --parsable " + (root_ / "a" / "sbatch.sh").string());
}

TEST_F(SlurmExecutorTest, PollIntervalBacksOffToMonitorInterval) {
  auto ex = make();
  EXPECT_EQ(ex->next_poll_interval(0), milliseconds(500));
  EXPECT_EQ(ex->next_poll_interval(1), milliseconds(1000));
  EXPECT_EQ(ex->next_poll_interval(3), milliseconds(4000));
  EXPECT_EQ(ex->next_poll_interval(100), milliseconds(30000));
}

// ------------------------------------------------------------- self-submitting (real wrapper)

// Polls until the job is terminal or ~10 s passed.
void poll_until_done(SlurmExecutor& ex, Job& job) {
  std::vector<Job*> active{&job};
  for (int i = 0; i < 1000 && !is_terminal(job.state); ++i) {
    ex.poll(active);
    if (!is_terminal(job.state)) std::this_thread::sleep_for(milliseconds(10));
  }
}

TEST_F(SlurmExecutorTest, SelfSubmittingJobWaitsForSlurmAndTheWrapper) {
  auto ex = make();
  JobRequest req = request("mb",
                           "echo \"launcher log\"; echo \"Submitted batch job 777\"; "
                           "while [ ! -f release ]; do sleep 0.02; done; echo relayed",
                           true);
  req.spec.process_env = {{"NEMORUN_HOME", "/tmp/x"}};
  Job job = ex->submit(req);
  EXPECT_EQ(job.state, JobState::kPending);
  EXPECT_EQ(job.id, "");
  EXPECT_EQ(runner_->count("sbatch"), 0);
  slurm_.queue["777"] = "COMPLETED|None";
  slurm_.acct["777"] = "COMPLETED|0:0|None";
  std::vector<Job*> active{&job};
  for (int i = 0; i < 500 && job.id.empty(); ++i) {
    ex->poll(active);
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(job.id, "777");
  ex->poll(active);
  EXPECT_EQ(job.state, JobState::kCompleting) << "Slurm is done but the wrapper still runs";
  std::ofstream(req.run_dir / "release") << "";
  poll_until_done(*ex, job);
  EXPECT_EQ(job.state, JobState::kCompleted);
  EXPECT_EQ(read_file(req.run_dir / "submit.stdout"),
            "launcher log\nSubmitted batch job 777\nrelayed\n");
}

TEST_F(SlurmExecutorTest, WrapperThatOutlivesTheGraceIsStopped) {
  options_.wrapper_grace = milliseconds(1000);
  auto ex = make();
  Job job = ex->submit(request("mb", "echo 'Submitted batch job 5'; exec sleep 60", true));
  slurm_.queue["5"] = "FAILED|NonZeroExitCode";
  slurm_.acct["5"] = "FAILED|1:0|None";
  std::vector<Job*> active{&job};
  for (int i = 0; i < 500 && job.state != JobState::kCompleting; ++i) {
    ex->poll(active);
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(job.state, JobState::kCompleting);
  runner_->advance(milliseconds(1500));
  ex->poll(active);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_EQ(job.reason, "exit 1");
}

TEST_F(SlurmExecutorTest, WrapperWithoutJobIdFailsWithItsStderr) {
  auto ex = make();
  Job job = ex->submit(
      request("mb", "echo 'Failed to retrieve job ID.' >&2; echo 'no quota' >&2; exit 1", true));
  poll_until_done(*ex, job);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_NE(job.reason.find("exit 1"), std::string::npos) << job.reason;
  EXPECT_NE(job.reason.find("no quota"), std::string::npos) << job.reason;
  EXPECT_EQ(runner_->count("squeue"), 0);
}

TEST_F(SlurmExecutorTest, IdOnTheLastLineWithoutNewlineIsFoundAtExit) {
  auto ex = make();
  Job job = ex->submit(request("mb", "printf 'Submitted batch job 42'", true));
  slurm_.queue["42"] = "COMPLETED|None";
  slurm_.acct["42"] = "COMPLETED|0:0|None";
  poll_until_done(*ex, job);
  EXPECT_EQ(job.id, "42");
  EXPECT_EQ(job.state, JobState::kCompleted);
}

TEST_F(SlurmExecutorTest, CancelKillsTheWrapperAndTheJobItPrinted) {
  auto ex = make();
  JobRequest req = request("mb", "echo 'Submitted batch job 88'; sleep 60", true);
  Job job = ex->submit(req);
  // The id is printed but not read by a poll yet.
  for (int i = 0; i < 500 && read_file(req.run_dir / "submit.stdout").empty(); ++i)
    std::this_thread::sleep_for(milliseconds(10));
  ex->cancel(job);
  EXPECT_EQ(job.state, JobState::kCancelled);
  EXPECT_EQ(job.id, "88");
  EXPECT_EQ(slurm_.cancelled, (std::vector<std::string>{"88"}));
}

TEST_F(SlurmExecutorTest, CancelBeforeAnyIdKillsTheWrapper) {
  auto ex = make();
  Job job = ex->submit(request("mb", "sleep 60", true));
  ex->cancel(job);
  EXPECT_EQ(job.state, JobState::kCancelled);
  EXPECT_TRUE(slurm_.cancelled.empty());
}

// Megatron-Bridge's launcher retries a flaky failure with a new Slurm job (--max_retries): the
// wrapper prints the new id after the first job ended; the run follows it, and the verdict is
// the last attempt's.
TEST_F(SlurmExecutorTest, LauncherRetryIsFollowedToTheLastAttempt) {
  auto ex = make();
  JobRequest req = request("mb",
                           "echo 'Submitted batch job 201'; while [ ! -f retry ]; do sleep 0.02; "
                           "done; echo 'Submitted batch job 202'; "
                           "while [ ! -f release ]; do sleep 0.02; done",
                           true);
  Job job = ex->submit(req);
  slurm_.queue["201"] = "FAILED|NonZeroExitCode";
  slurm_.acct["201"] = "FAILED|1:0|None";
  std::vector<Job*> active{&job};
  for (int i = 0; i < 500 && job.state != JobState::kCompleting; ++i) {
    ex->poll(active);
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(job.state, JobState::kCompleting) << "attempt 1 ended; the launcher decides";
  slurm_.queue["202"] = "RUNNING|None";
  std::ofstream(req.run_dir / "retry") << "";
  for (int i = 0; i < 500 && job.id != "202"; ++i) {
    ex->poll(active);
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(job.id, "202");
  ASSERT_EQ(job.earlier_attempts.size(), 1u);
  EXPECT_EQ(job.earlier_attempts[0].id, "201");
  EXPECT_EQ(job.earlier_attempts[0].state, JobState::kFailed);
  EXPECT_EQ(job.earlier_attempts[0].exit_code, 1);
  ex->poll(active);
  EXPECT_EQ(job.state, JobState::kRunning);
  slurm_.queue["202"] = "COMPLETED|None";
  slurm_.acct["202"] = "COMPLETED|0:0|None";
  std::ofstream(req.run_dir / "release") << "";
  poll_until_done(*ex, job);
  EXPECT_EQ(job.state, JobState::kCompleted);
  std::vector<JobAttempt> attempts = all_attempts(job);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].id, "202");
  EXPECT_EQ(attempts[1].state, JobState::kCompleted);
  EXPECT_EQ(attempts[1].exit_code, 0);
  EXPECT_LE(ex->call_stats().max_calls_per_round, 2);
}

// The retry happened between two polls: the first attempt was never seen ending. Its state is
// asked in the same squeue/sacct calls as the current attempt's.
TEST_F(SlurmExecutorTest, AttemptNeverSeenEndingIsResolvedWithinTheRoundsCalls) {
  auto ex = make();
  JobRequest req = request("mb",
                           "echo 'Submitted batch job 301'; echo 'Submitted batch job 302'; "
                           "while [ ! -f release ]; do sleep 0.02; done",
                           true);
  Job job = ex->submit(req);
  slurm_.queue["301"] = "FAILED|NonZeroExitCode";
  slurm_.acct["301"] = "FAILED|1:0|None";
  slurm_.queue["302"] = "RUNNING|None";
  std::vector<Job*> active{&job};
  for (int i = 0; i < 500 && job.id != "302"; ++i) {
    ex->poll(active);
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(job.id, "302");
  for (int i = 0; i < 5; ++i) ex->poll(active);
  ASSERT_EQ(job.earlier_attempts.size(), 1u);
  EXPECT_EQ(job.earlier_attempts[0].id, "301");
  EXPECT_EQ(job.earlier_attempts[0].state, JobState::kFailed);
  EXPECT_EQ(job.earlier_attempts[0].exit_code, 1);
  EXPECT_EQ(job.state, JobState::kRunning);
  EXPECT_LE(ex->call_stats().max_calls_per_round, 2);
  slurm_.queue["302"] = "COMPLETED|None";
  slurm_.acct["302"] = "COMPLETED|0:0|None";
  std::ofstream(req.run_dir / "release") << "";
  poll_until_done(*ex, job);
  EXPECT_EQ(job.state, JobState::kCompleted);
}

// Resume: benchpilot died while the launcher's first attempt ran; its wrapper survived. The
// resumed session re-attaches to the journaled job and follows the wrapper's output, so the
// launcher's retry becomes the next attempt and the verdict is the last attempt's.
TEST_F(SlurmExecutorTest, ResumedSessionFollowsTheEarlierWrappersRetry) {
  JobRequest req = request("mb",
                           "echo 'Submitted batch job 501'; while [ ! -f retry ]; do sleep 0.02; "
                           "done; echo 'Submitted batch job 502'; "
                           "while [ ! -f release ]; do sleep 0.02; done",
                           true);
  int wrapper = 0;
  {
    auto first = make();
    Job job = first->submit(req);
    wrapper = first->submitter_pid(job);
    for (int i = 0; i < 500 && read_file(req.run_dir / "submit.stdout").empty(); ++i)
      std::this_thread::sleep_for(milliseconds(10));
    first->detach();  // as after SIGHUP or kill -9: the wrapper runs on
  }
  ASSERT_GT(wrapper, 0);
  ASSERT_TRUE(process_alive(wrapper, process_start_time(wrapper)));
  slurm_.queue["501"] = "RUNNING|None";
  auto ex = make();
  Job job = ex->attach(req, true, "501", wrapper, process_start_time(wrapper));
  EXPECT_EQ(job.id, "501");
  EXPECT_EQ(ex->submitter_pid(job), wrapper) << "the journal keeps naming the earlier wrapper";
  std::vector<Job*> active{&job};
  ex->poll(active);
  EXPECT_EQ(job.state, JobState::kRunning);
  slurm_.queue["501"] = "FAILED|NonZeroExitCode";
  slurm_.acct["501"] = "FAILED|1:0|None";
  ex->poll(active);
  EXPECT_EQ(job.state, JobState::kCompleting) << "the earlier wrapper may still retry";
  slurm_.queue["502"] = "RUNNING|None";
  std::ofstream(req.run_dir / "retry") << "";
  for (int i = 0; i < 500 && job.id != "502"; ++i) {
    ex->poll(active);
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(job.id, "502");
  slurm_.queue["502"] = "COMPLETED|None";
  slurm_.acct["502"] = "COMPLETED|0:0|None";
  std::ofstream(req.run_dir / "release") << "";
  poll_until_done(*ex, job);
  EXPECT_EQ(job.state, JobState::kCompleted);
  std::vector<JobAttempt> attempts = all_attempts(job);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].id, "501");
  EXPECT_EQ(attempts[0].state, JobState::kFailed);
  EXPECT_EQ(attempts[1].id, "502");

  // A second resume after the retry: the newest id printed is the current attempt.
  auto again = make();
  Job later = again->attach(req, true, "501", wrapper, process_start_time(wrapper));
  EXPECT_EQ(later.id, "502");
  ASSERT_EQ(later.earlier_attempts.size(), 1u);
  EXPECT_EQ(later.earlier_attempts[0].id, "501");
  poll_until_done(*again, later);
  EXPECT_EQ(later.state, JobState::kCompleted);
  EXPECT_EQ(all_attempts(later)[0].state, JobState::kFailed) << "resolved from accounting";
}

// A launcher's job found by its comment alone: submitted from elsewhere (another WorkDir),
// logging elsewhere, its id never printed into the run dir. Of two attempts, the newer is live.
TEST_F(SlurmExecutorTest, LostJobIsFoundByItsCommentAlone) {
  auto ex = make();
  JobRequest req = request("mb", "true", true);
  const std::string comment = "benchpilot:sc_1.abcd:mb/0/2";
  slurm_.override_squeue = [&](const std::vector<std::string>&) {
    return FakeCommandRunner::ok(
        "77|benchpilot:sc_1.abcd:mb/0/1|/home/u|/home/u/log-77.out|\n"
        "98|" +
        comment +
        "|/home/u|/home/u/log-98.out|\n"
        "99|" +
        comment + "|/home/u|/home/u/log-99.out|\n");
  };
  EXPECT_EQ(ex->find_lost_job(comment, req.run_dir), "99");
  EXPECT_EQ(ex->find_lost_job("benchpilot:sc_1.abcd:mb/0/3", req.run_dir), std::nullopt)
      << "no comment, WorkDir, log path or printed id names it";
}

// A Megatron-Bridge pre-test gate is a job of the point's folder too; it carries the point's
// comment + ":pre_test". Killed after the gate's submission but before the training's, a resume
// must not take the gate's job for the point's.
TEST_F(SlurmExecutorTest, LostJobSearchSkipsThePointsGateJob) {
  auto ex = make();
  JobRequest req = request("mb", "true", true);
  const std::string dir = fs::absolute(req.run_dir).lexically_normal().string();
  const std::string comment = "benchpilot:sc_1.abcd:mb/0/2";
  std::string rows = "120|" + comment + ":pre_test|" + dir + "|" + dir + "/pre_hook/stdout.txt|\n";
  slurm_.override_squeue = [&](const std::vector<std::string>&) {
    return FakeCommandRunner::ok(rows);
  };
  EXPECT_EQ(ex->find_lost_job(comment, req.run_dir), std::nullopt);
  rows += "121|" + comment + "|" + dir + "|" + dir + "/experiments/log-121_0.out|\n";
  EXPECT_EQ(ex->find_lost_job(comment, req.run_dir), "121");
}

TEST_F(SlurmExecutorTest, CancelStopsEveryAttemptInOneCall) {
  auto ex = make();
  JobRequest req = request(
      "mb", "echo 'Submitted batch job 401'; echo 'Submitted batch job 402'; sleep 60", true);
  Job job = ex->submit(req);
  for (int i = 0; i < 500 && read_file(req.run_dir / "submit.stdout").size() < 48; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  ex->cancel(job);
  EXPECT_EQ(job.state, JobState::kCancelled);
  EXPECT_EQ(job.id, "402");
  EXPECT_EQ(slurm_.cancelled, (std::vector<std::string>{"401", "402"}));
  EXPECT_EQ(runner_->count("scancel"), 1);
}

TEST(SlurmExecutorFactory, MakesASlurmExecutor) {
  System sys;
  sys.scheduler = "slurm";
  EXPECT_NE(dynamic_cast<SlurmExecutor*>(make_executor(sys).get()), nullptr);
  sys.scheduler = "kubernetes";
  EXPECT_THROW(make_executor(sys), ValueError);
}

}  // namespace
}  // namespace bp
