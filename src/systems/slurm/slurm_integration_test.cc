// SlurmExecutor against a real local Slurm cluster (slurmctld, slurmd, slurmdbd; real sbatch,
// squeue, sacct, scancel). ctest starts one with scripts/local-slurm/start.sh (fixture
// "slurm", tests/slurm_cluster.cmake) and passes its slurm.conf in BENCHPILOT_TEST_SLURM_CONF.
// By hand: scripts/local-slurm/start.sh /tmp/bps --accounting, then
// BENCHPILOT_TEST_SLURM_CONF=/tmp/bps/etc/slurm.conf systems_tests --gtest_filter='Slurm*'.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "config/toml_reader.h"
#include "systems/slurm/node_list.h"
#include "systems/slurm/slurm_executor.h"
#include "testkit/testkit.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testkit::read_file;

class SlurmIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* conf = std::getenv("BENCHPILOT_TEST_SLURM_CONF");
    if (!conf || !*conf)
      GTEST_SKIP() << "no Slurm cluster: set BENCHPILOT_TEST_SLURM_CONF to the slurm.conf of a "
                      "running local cluster (scripts/local-slurm/start.sh DIR --accounting "
                      "writes DIR/etc/slurm.conf); ctest does this through the 'slurm' fixture";
    setenv("SLURM_CONF", conf, 1);
    system_.name = "local-slurm";
    system_.scheduler = "slurm";
    system_.mpi = "none";  // the local cluster has no PMIx
    system_.monitor_interval = 1;
    slurm_settings(system_).status_retry_pause_seconds = 1;
  }

  JobRequest request(const std::string& name, const std::string& command,
                     bool self_submitting = false) {
    JobRequest req;
    req.name = "bp_it_" + name;
    req.run_dir = root_ / name;
    fs::create_directories(req.run_dir);
    req.spec.command = command;
    req.spec.self_submitting = self_submitting;
    return req;
  }

  // Polls like the engine does until every job ended or `limit` passed.
  static void run_until_done(SlurmExecutor& ex, std::vector<Job>& jobs, seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    int quiet = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      std::vector<Job*> active;
      std::vector<JobState> before;
      for (Job& j : jobs)
        if (!is_terminal(j.state)) {
          active.push_back(&j);
          before.push_back(j.state);
        }
      if (active.empty()) return;
      ex.poll(active);
      bool changed = false;
      for (size_t i = 0; i < active.size(); ++i) changed |= active[i]->state != before[i];
      quiet = changed ? 0 : quiet + 1;
      std::this_thread::sleep_for(ex.next_poll_interval(quiet));
    }
    ADD_FAILURE() << "jobs did not end within " << limit.count() << " s";
  }

  // Slurm's own view of a job's state (scontrol), waiting until it is not `transient`.
  static std::string slurm_state(const std::string& id) {
    for (int i = 0; i < 100; ++i) {
      CommandResult r = run_command({"scontrol", "-o", "show", "job", id});
      size_t pos = r.out.find("JobState=");
      if (pos != std::string::npos) {
        std::string state = r.out.substr(pos + 9, r.out.find(' ', pos) - pos - 9);
        if (state != "RUNNING" && state != "PENDING" && state != "COMPLETING") return state;
      }
      std::this_thread::sleep_for(milliseconds(200));
    }
    return "";
  }

  testkit::TempDir root_{testkit::TempDir::Keep::kOnFailure};
  System system_;
};

TEST_F(SlurmIntegration, BatchJobsCompleteOrFailWithReasons) {
  system_.gpus_per_node = 1;  // the local cluster has fake GPUs: the directives must pass
  SlurmExecutor ex(system_);
  JobRequest ok = request("ok", "sleep 1; echo \"hello $BP_IT_VAR gpus=$CUDA_VISIBLE_DEVICES\"");
  ok.spec.process_env = {{"BP_IT_VAR", "from-env"}};
  JobRequest bad = request("bad", "echo failing >&2; exit 3");
  std::vector<Job> jobs{ex.submit(ok), ex.submit(bad)};
  ASSERT_FALSE(jobs[0].id.empty()) << jobs[0].reason;
  ASSERT_FALSE(jobs[1].id.empty()) << jobs[1].reason;
  EXPECT_TRUE(ex.gpu_directives_usable());
  run_until_done(ex, jobs, seconds(120));

  EXPECT_EQ(jobs[0].state, JobState::kCompleted) << jobs[0].reason;
  EXPECT_EQ(read_file(ok.run_dir / "stdout.txt"), "hello from-env gpus=0\n");
  EXPECT_EQ(read_file(ok.run_dir / "sbatch.sh").find("from-env"), std::string::npos);
  EXPECT_EQ(jobs[1].state, JobState::kFailed);
  EXPECT_EQ(jobs[1].reason, "exit 3");
  EXPECT_NE(read_file(bad.run_dir / "stderr.txt").find("failing\n"), std::string::npos);
  EXPECT_LE(ex.call_stats().max_calls_per_round, 2);

  ex.write_job_metadata(jobs[0]);
  Value doc = read_toml_file(ok.run_dir / "slurm-job.toml");
  EXPECT_EQ(std::to_string(doc.find("job_id")->as_int()), jobs[0].id);
  EXPECT_EQ(doc.find("name")->as_string(), "bp_it_ok");
  EXPECT_EQ(doc.find("state")->as_string(), "COMPLETED");
  EXPECT_EQ(doc.find("exit_code")->as_string(), "0:0");
  EXPECT_GE(doc.find("elapsed_time_sec")->as_int(), 1);
  EXPECT_FALSE(doc.find("node_list")->as_string().empty());
  if (ex.accounting().value_or(false)) {
    EXPECT_EQ(doc.find("source")->as_string(), "sacct");
    EXPECT_GE(doc.find("job_steps")->size(), 1u);
    EXPECT_NE(doc.find("submit_line")->as_string().find("sbatch"), std::string::npos);
  }
  EXPECT_EQ(read_file(ok.run_dir / "slurm-job.toml").find("from-env"), std::string::npos);
}

TEST_F(SlurmIntegration, RejectedSubmissionFails) {
  system_.default_partition = "no_such_partition";
  SlurmExecutor ex(system_);
  Job job = ex.submit(request("rejected", "true"));
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_NE(job.reason.find("partition"), std::string::npos) << job.reason;
}

TEST_F(SlurmIntegration, CancelledJobs) {
  SlurmExecutor ex(system_);
  std::vector<Job> jobs{ex.submit(request("mine", "sleep 300")),
                        ex.submit(request("theirs", "sleep 300"))};
  // Wait until both run, then cancel one ourselves and one from outside benchpilot.
  auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while ((jobs[0].state != JobState::kRunning || jobs[1].state != JobState::kRunning) &&
         std::chrono::steady_clock::now() < deadline) {
    std::vector<Job*> active{&jobs[0], &jobs[1]};
    ex.poll(active);
    std::this_thread::sleep_for(milliseconds(300));
  }
  ASSERT_EQ(jobs[0].state, JobState::kRunning);
  ex.cancel(jobs[0]);
  EXPECT_EQ(jobs[0].state, JobState::kCancelled);
  EXPECT_EQ(slurm_state(jobs[0].id), "CANCELLED");

  ASSERT_TRUE(run_command({"scancel", jobs[1].id}).ok());
  run_until_done(ex, jobs, seconds(60));
  EXPECT_EQ(jobs[1].state, JobState::kCancelled);
  if (ex.accounting().value_or(false)) {
    EXPECT_EQ(jobs[1].reason, "CANCELLED by 0");
  }
}

TEST_F(SlurmIntegration, TimeLimitEndsInTimeout) {
  SlurmExecutor ex(system_);
  JobRequest req = request("timeout", "sleep 300");
  req.time_limit = "00:01:00";
  std::vector<Job> jobs{ex.submit(req)};
  ASSERT_FALSE(jobs[0].id.empty()) << jobs[0].reason;
  run_until_done(ex, jobs, seconds(240));  // Slurm checks limits about every 30 s
  EXPECT_EQ(jobs[0].state, JobState::kTimeout) << jobs[0].reason;
}

TEST_F(SlurmIntegration, SelfSubmittingWrapper) {
  SlurmExecutor ex(system_);
  // A stand-in for the Megatron-Bridge wrapper: submits its own job, prints the id at once,
  // then stays until the job ended and relays its output, like `--detach false`.
  JobRequest req =
      request("wrapper",
              "id=$(sbatch --parsable -J bp_it_wrapped -o \"$PWD/job.out\" "
              "--wrap 'sleep 2; echo trained $BP_IT_SECRET_LEN') || exit 1\n"
              "echo \"Submitted batch job $id\"\n"
              "while [ -n \"$(squeue -h -j $id -o %T 2>/dev/null)\" ]; do sleep 0.3; done\n"
              "cat job.out > relayed.log\n",
              true);
  req.spec.process_env = {{"BP_IT_SECRET_LEN", "42"}};
  std::vector<Job> jobs{ex.submit(req)};
  EXPECT_EQ(jobs[0].id, "");
  run_until_done(ex, jobs, seconds(120));
  EXPECT_EQ(jobs[0].state, JobState::kCompleted) << jobs[0].reason;
  EXPECT_FALSE(jobs[0].id.empty());
  EXPECT_EQ(read_file(req.run_dir / "relayed.log"), "trained 42\n")
      << "the job is over only once the wrapper finished relaying";
  ex.write_job_metadata(jobs[0]);
  Value doc = read_toml_file(req.run_dir / "slurm-job.toml");
  EXPECT_EQ(std::to_string(doc.find("job_id")->as_int()), jobs[0].id);
  EXPECT_EQ(doc.find("name")->as_string(), "bp_it_wrapped");
}

TEST_F(SlurmIntegration, SchedulerCallsPerRoundDoNotDependOnTheJobCount) {
  auto run_jobs = [&](int n) {
    SlurmExecutor ex(system_);
    std::vector<Job> jobs;
    for (int i = 0; i < n; ++i)
      jobs.push_back(
          ex.submit(request("n" + std::to_string(n) + "_" + std::to_string(i), "sleep 2")));
    run_until_done(ex, jobs, seconds(120));
    for (const Job& j : jobs) EXPECT_EQ(j.state, JobState::kCompleted) << j.reason;
    return ex.call_stats();
  };
  SchedulerCallStats one = run_jobs(1);
  SchedulerCallStats ten = run_jobs(10);
  EXPECT_EQ(one.by_command.at("sbatch"), 1);
  EXPECT_EQ(ten.by_command.at("sbatch"), 10);
  EXPECT_LE(one.max_calls_per_round, 2);
  EXPECT_LE(ten.max_calls_per_round, 2);
  EXPECT_LE(ten.calls_per_round(), 2.0);
  EXPECT_EQ(ten.retries, 0);
}

TEST_F(SlurmIntegration, GroupNodeSpecsResolveToIdleNodes) {
  CommandResult nodes = run_command({"sinfo", "-h", "-N", "-o", "%N"});
  ASSERT_TRUE(nodes.ok()) << nodes.err;
  std::vector<std::string> names;
  for (const std::string& n : split(nodes.out, '\n'))
    if (!trim(n).empty()) names.emplace_back(trim(n));
  ASSERT_GE(names.size(), 2u);
  slurm_settings(system_).partitions = {{"p", {{"g", {join(names, ",")}}}}};
  std::vector<std::string> picked = resolve_nodes(system_, {"p:g:2"});
  ASSERT_EQ(picked.size(), 2u);
  SlurmExecutor ex(system_);
  JobRequest req = request("nodes", "echo $SLURMD_NODENAME");
  req.nodes = picked;
  req.num_nodes = 2;
  std::vector<Job> jobs{ex.submit(req)};
  run_until_done(ex, jobs, seconds(60));
  EXPECT_EQ(jobs[0].state, JobState::kCompleted) << jobs[0].reason;
  std::vector<std::string> used;  // one task per node prints its node name
  for (const std::string& line : split(read_file(req.run_dir / "stdout.txt"), '\n'))
    if (!line.empty()) used.push_back(line);
  std::sort(used.begin(), used.end());
  EXPECT_EQ(used, picked);
  EXPECT_THROW(resolve_nodes(system_, {"p:g:" + std::to_string(names.size() + 1)}), ValueError);
}

}  // namespace
}  // namespace bp
