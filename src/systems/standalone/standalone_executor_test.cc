#include "systems/standalone/standalone_executor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "config/toml_reader.h"
#include "testkit/testkit.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using testkit::read_file;

class StandaloneExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    system_.name = "local";
    system_.scheduler = "standalone";
    system_.monitor_interval = 1;
  }

  JobRequest request(const std::string& name, const std::string& command) {
    JobRequest req;
    req.name = name;
    req.run_dir = root_ / name;
    fs::create_directories(req.run_dir);
    req.spec.command = command;
    return req;
  }

  // Polls until the job is terminal (at most ~10 s).
  void wait_for(Executor& ex, Job& job) {
    std::vector<Job*> active{&job};
    for (int i = 0; i < 1000 && !is_terminal(job.state); ++i) {
      ex.poll(active);
      if (!is_terminal(job.state)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  testkit::TempDir root_;
  System system_;
};

TEST_F(StandaloneExecutorTest, ShortJobCompletesWithItsOutputInTheRunDir) {
  StandaloneExecutor ex(system_);
  JobRequest req = request("ok", "sleep 0.2; echo hello; echo warn >&2; pwd");
  Job job = ex.submit(req);
  EXPECT_EQ(job.state, JobState::kRunning);
  EXPECT_EQ(job.id, std::to_string(std::stoi(job.id)));  // the pid
  std::vector<Job*> active{&job};
  ex.poll(active);
  EXPECT_FALSE(is_terminal(job.state)) << "a 0.2 s job cannot be over at once";
  wait_for(ex, job);
  EXPECT_EQ(job.state, JobState::kCompleted);
  EXPECT_EQ(job.reason, "");
  EXPECT_EQ(read_file(req.run_dir / "stdout.txt"),
            "hello\n" + fs::canonical(req.run_dir).string() + "\n");
  EXPECT_EQ(read_file(req.run_dir / "stderr.txt"), "warn\n");
}

TEST_F(StandaloneExecutorTest, NonZeroExitFailsWithTheExitCode) {
  StandaloneExecutor ex(system_);
  Job job = ex.submit(request("bad", "false"));
  wait_for(ex, job);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_EQ(job.reason, "exit 1");
}

TEST_F(StandaloneExecutorTest, DeathBySignalIsReported) {
  StandaloneExecutor ex(system_);
  Job job = ex.submit(request("sig", "kill -9 $$"));
  wait_for(ex, job);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_EQ(job.reason, "signal 9");
}

TEST_F(StandaloneExecutorTest, CancelStopsALongJob) {
  StandaloneExecutor ex(system_);
  Job job = ex.submit(request("long", "sleep 60"));
  ex.cancel(job);
  EXPECT_EQ(job.state, JobState::kCancelled);
  EXPECT_EQ(job.reason, "cancelled by benchpilot");
  ex.cancel(job);  // safe on a finished job
  EXPECT_EQ(job.state, JobState::kCancelled);
  std::vector<Job*> active{&job};
  ex.poll(active);
  EXPECT_EQ(job.state, JobState::kCancelled);
}

TEST_F(StandaloneExecutorTest, ProcessEnvReachesTheJobButNoFile) {
  StandaloneExecutor ex(system_);
  JobRequest req = request("env", "echo \"$BP_SECRET_TOKEN\" | wc -c");
  req.spec.process_env = {{"BP_SECRET_TOKEN", "s3cr3t-value"}};
  Job job = ex.submit(req);
  wait_for(ex, job);
  ex.write_job_metadata(job);
  EXPECT_EQ(job.state, JobState::kCompleted);
  EXPECT_EQ(read_file(req.run_dir / "stdout.txt"), "13\n");
  for (const auto& entry : fs::directory_iterator(req.run_dir))
    EXPECT_EQ(read_file(entry.path()).find("s3cr3t-value"), std::string::npos) << entry.path();
}

TEST_F(StandaloneExecutorTest, WritesJobMetadata) {
  StandaloneExecutor ex(system_);
  JobRequest req = request("meta", "exit 3");
  Job job = ex.submit(req);
  wait_for(ex, job);
  ex.write_job_metadata(job);
  Value doc = read_toml_file(req.run_dir / "standalone-job.toml");
  EXPECT_EQ(doc.find("job_id")->as_int(), std::stoi(job.id));
  EXPECT_EQ(doc.find("name")->as_string(), "meta");
  EXPECT_EQ(doc.find("state")->as_string(), "FAILED");
  EXPECT_EQ(doc.find("reason")->as_string(), "exit 3");
  EXPECT_EQ(doc.find("exit_code")->as_int(), 3);
  EXPECT_EQ(doc.find("command")->as_string(), "exit 3");
  EXPECT_GE(doc.find("elapsed_time_sec")->as_int(), 0);
  EXPECT_EQ(doc.find("start_time")->as_string().size(), 19u);
  // Read back through the registry, as judge, the reports and the store read it.
  std::optional<JobRecord> record = read_job_record(req.run_dir);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->file, kStandaloneJobFile);
  EXPECT_EQ(record->job_id, job.id);
  EXPECT_EQ(record->state, "FAILED");
  EXPECT_EQ(record->start_time, doc.find("start_time")->as_string());
  ASSERT_TRUE(record->elapsed_seconds);
  EXPECT_EQ(*record->elapsed_seconds, doc.find("elapsed_time_sec")->as_double());
  EXPECT_TRUE(is_job_record_file(kStandaloneJobFile));
}

TEST_F(StandaloneExecutorTest, JobsRunConcurrently) {
  StandaloneExecutor ex(system_);
  // Each job announces itself, then waits until all five have started: run one after the other,
  // the first would give up (exit 1) after ~10 s.
  const std::string rendezvous = (root_ / "started").string();
  fs::create_directories(rendezvous);
  std::vector<Job> jobs;
  for (int i = 0; i < 5; ++i) {
    std::string cmd = "touch " + rendezvous + "/" + std::to_string(i) +
                      "; for t in $(seq 200); do [ $(ls " + rendezvous +
                      " | wc -l) -ge 5 ] && exit 0; sleep 0.05; done; exit 1";
    jobs.push_back(ex.submit(request("c" + std::to_string(i), cmd)));
  }
  std::vector<Job*> active;
  for (Job& j : jobs) active.push_back(&j);
  for (int i = 0; i < 2000; ++i) {
    ex.poll(active);
    bool all = true;
    for (Job& j : jobs) all &= is_terminal(j.state);
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (Job& j : jobs) EXPECT_EQ(j.state, JobState::kCompleted) << j.reason;
}

TEST_F(StandaloneExecutorTest, PollIntervalBacksOffToMonitorInterval) {
  system_.monitor_interval = 2;
  StandaloneExecutor ex(system_);
  EXPECT_EQ(ex.next_poll_interval(0), std::chrono::milliseconds(100));
  EXPECT_EQ(ex.next_poll_interval(1), std::chrono::milliseconds(200));
  EXPECT_EQ(ex.next_poll_interval(50), std::chrono::milliseconds(2000));
}

TEST_F(StandaloneExecutorTest, FactoryMakesAStandaloneExecutor) {
  auto ex = make_executor(system_);
  ASSERT_NE(ex, nullptr);
  Job job = ex->submit(request("f", "true"));
  wait_for(*ex, job);
  EXPECT_EQ(job.state, JobState::kCompleted);
}

}  // namespace
}  // namespace bp
