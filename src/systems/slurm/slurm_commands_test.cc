#include "systems/slurm/slurm_commands.h"

#include <gtest/gtest.h>

#include "testkit/fake_command_runner.h"

namespace bp {
namespace {

using testkit::FakeCommandRunner;

using std::chrono::milliseconds;

RetryPolicy fast_policy() {
  RetryPolicy p;
  p.first_pause = milliseconds(100);
  p.max_pause = milliseconds(250);
  p.max_attempts = 4;
  return p;
}

TEST(SlurmCommands, TransientErrorsAreRetriedWithBackoff) {
  int n = 0;
  FakeCommandRunner runner([&](const std::vector<std::string>&) {
    if (++n < 4) return FakeCommandRunner::fail("squeue: error: Socket timed out on send/recv");
    return FakeCommandRunner::ok("1|RUNNING|None\n");
  });
  SlurmCommands cmds(runner, fast_policy());
  CommandResult r = cmds.call({"squeue", "-h"});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(n, 4);
  EXPECT_EQ(runner.sleeps,
            (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(250)}));
  EXPECT_EQ(cmds.stats().total, 4);
  EXPECT_EQ(cmds.stats().retries, 3);
  EXPECT_EQ(cmds.stats().by_command.at("squeue"), 4);
}

TEST(SlurmCommands, AttemptsAreBounded) {
  FakeCommandRunner runner([](const std::vector<std::string>&) {
    return FakeCommandRunner::fail("slurm_load_jobs error: Unable to contact slurm controller");
  });
  SlurmCommands cmds(runner, fast_policy());
  CommandResult r = cmds.call({"squeue"});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(runner.calls.size(), 4u);
  EXPECT_EQ(runner.sleeps.size(), 3u);  // no pause after the last attempt
}

TEST(SlurmCommands, NonTransientErrorsAreNotRetried) {
  FakeCommandRunner runner([](const std::vector<std::string>&) {
    return FakeCommandRunner::fail("slurm_load_jobs error: Invalid job id specified");
  });
  SlurmCommands cmds(runner, fast_policy());
  EXPECT_FALSE(cmds.call({"squeue", "-j", "5"}).ok());
  EXPECT_EQ(runner.calls.size(), 1u);
  EXPECT_TRUE(runner.sleeps.empty());
  runner.set_handler(
      [](const std::vector<std::string>&) { return FakeCommandRunner::fail("bad option"); });
  EXPECT_FALSE(cmds.call({"sacct"}).ok());
  EXPECT_EQ(runner.calls.size(), 2u);
}

TEST(SlurmCommands, SystemPatternsExtendTheTransientList) {
  RetryPolicy p = fast_policy();
  p.transient_patterns.push_back("slurmdbd: busy");
  FakeCommandRunner runner([n = 0](const std::vector<std::string>&) mutable {
    return ++n == 1 ? FakeCommandRunner::fail("sacct: slurmdbd: busy") : FakeCommandRunner::ok("");
  });
  SlurmCommands cmds(runner, p);
  EXPECT_TRUE(cmds.call({"sacct"}).ok());
  EXPECT_EQ(runner.calls.size(), 2u);
}

TEST(SlurmCommands, NoRetryWhenAsked) {
  FakeCommandRunner runner(
      [](const std::vector<std::string>&) { return FakeCommandRunner::fail("Socket timed out"); });
  SlurmCommands cmds(runner, fast_policy());
  EXPECT_FALSE(cmds.call({"sbatch", "x"}, Retry::kNo).ok());
  EXPECT_EQ(runner.calls.size(), 1u);
}

TEST(SlurmCommands, CountsCallsPerRound) {
  FakeCommandRunner runner(
      [](const std::vector<std::string>&) { return FakeCommandRunner::ok(""); });
  SlurmCommands cmds(runner, fast_policy());
  cmds.call({"sbatch"});  // outside rounds
  cmds.begin_round();
  cmds.call({"squeue"});
  cmds.call({"sacct"});
  cmds.end_round();
  cmds.begin_round();
  cmds.call({"squeue"});
  cmds.end_round();
  EXPECT_EQ(cmds.stats().total, 4);
  EXPECT_EQ(cmds.stats().poll_rounds, 2);
  EXPECT_EQ(cmds.stats().calls_in_polls, 3);
  EXPECT_EQ(cmds.stats().max_calls_per_round, 2);
  EXPECT_EQ(cmds.stats().last_round_calls, 1);
  EXPECT_DOUBLE_EQ(cmds.stats().calls_per_round(), 1.5);
}

}  // namespace
}  // namespace bp
