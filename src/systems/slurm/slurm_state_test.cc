#include "systems/slurm/slurm_state.h"

#include <gtest/gtest.h>

namespace bp {
namespace {

struct StateCase {
  const char* text;
  JobState state;
};

TEST(SlurmState, EveryStateOfTheTable) {
  const StateCase cases[] = {
      {"COMPLETED", JobState::kCompleted},
      {"FAILED", JobState::kFailed},
      {"CANCELLED", JobState::kCancelled},
      {"CANCELLED by 0", JobState::kCancelled},
      {"CANCELLED by 1000", JobState::kCancelled},
      {"CANCELLED+", JobState::kCancelled},
      {"TIMEOUT", JobState::kTimeout},
      {"OUT_OF_MEMORY", JobState::kOutOfMemory},
      {"OUT_OF_ME+", JobState::kRunning},  // truncated beyond recognition: not guessed
      {"NODE_FAIL", JobState::kNodeFail},
      {"PREEMPTED", JobState::kPreempted},
      {"BOOT_FAIL", JobState::kBootFail},
      {"DEADLINE", JobState::kDeadline},
      {"PENDING", JobState::kPending},
      {"RUNNING", JobState::kRunning},
      {"REQUEUED", JobState::kPending},
      {"REQUEUE_HOLD", JobState::kPending},
      {"COMPLETING", JobState::kCompleting},
      {"SUSPENDED", JobState::kRunning},
      {"CONFIGURING", JobState::kPending},
      {"SPECIAL_EXIT", JobState::kFailed},
      {"STAGE_OUT", JobState::kCompleting},
      {" running \n", JobState::kRunning},
      {"CD", JobState::kCompleted},
      {"CA", JobState::kCancelled},
      {"OOM", JobState::kOutOfMemory},
      {"TO", JobState::kTimeout},
      {"PD", JobState::kPending},
      {"R", JobState::kRunning},
      {"CG", JobState::kCompleting},
  };
  for (const StateCase& c : cases) EXPECT_EQ(job_state_from_slurm(c.text), c.state) << c.text;
}

TEST(SlurmState, TerminalStates) {
  for (auto s : {JobState::kCompleted, JobState::kFailed, JobState::kCancelled, JobState::kTimeout,
                 JobState::kOutOfMemory, JobState::kNodeFail, JobState::kPreempted,
                 JobState::kBootFail, JobState::kDeadline, JobState::kUnknown})
    EXPECT_TRUE(is_terminal(s)) << to_string(s);
  for (auto s : {JobState::kPending, JobState::kRunning, JobState::kCompleting})
    EXPECT_FALSE(is_terminal(s)) << to_string(s);
  EXPECT_TRUE(is_terminal(job_state_from_slurm("CANCELLED by 0")));
  EXPECT_FALSE(is_terminal(job_state_from_slurm("REQUEUED")));
}

TEST(SlurmState, UnknownStatesAreFlaggedAndKeepTheJobWatched) {
  bool known = true;
  EXPECT_EQ(job_state_from_slurm("FROBNICATED", &known), JobState::kRunning);
  EXPECT_FALSE(known);
  EXPECT_EQ(job_state_from_slurm("TIMEOUT", &known), JobState::kTimeout);
  EXPECT_TRUE(known);
}

TEST(SlurmState, NamesRoundTrip) {
  EXPECT_EQ(to_string(JobState::kOutOfMemory), "OUT_OF_MEMORY");
  EXPECT_EQ(to_string(JobState::kNodeFail), "NODE_FAIL");
  EXPECT_EQ(to_string(JobState::kUnknown), "UNKNOWN");
  for (auto s :
       {JobState::kCompleted, JobState::kFailed, JobState::kCancelled, JobState::kTimeout,
        JobState::kOutOfMemory, JobState::kNodeFail, JobState::kPreempted, JobState::kBootFail,
        JobState::kDeadline, JobState::kPending, JobState::kRunning, JobState::kCompleting})
    EXPECT_EQ(job_state_from_slurm(to_string(s)), s) << to_string(s);
}

SlurmJobStatus status(const char* text, const char* exit_code, const char* reason = "") {
  SlurmJobStatus s;
  s.state_text = text;
  s.state = job_state_from_slurm(text);
  s.exit_code = exit_code;
  s.reason = reason;
  return s;
}

TEST(SlurmState, DescribeOutcome) {
  EXPECT_EQ(describe_outcome(status("COMPLETED", "0:0")), "");
  EXPECT_EQ(describe_outcome(status("FAILED", "3:0", "NonZeroExitCode")), "exit 3");
  EXPECT_EQ(describe_outcome(status("FAILED", "0:9")), "signal 9");
  EXPECT_EQ(describe_outcome(status("CANCELLED by 0", "0:0")), "CANCELLED by 0");
  EXPECT_EQ(describe_outcome(status("CANCELLED", "0:15", "DependencyNeverSatisfied")),
            "DependencyNeverSatisfied");
  EXPECT_EQ(describe_outcome(status("TIMEOUT", "0:15", "TimeLimit")), "TimeLimit");
  EXPECT_EQ(describe_outcome(status("OUT_OF_MEMORY", "0:125")), "OUT_OF_MEMORY");
  EXPECT_EQ(describe_outcome(status("NODE_FAIL", "")), "NODE_FAIL");
  EXPECT_EQ(describe_outcome(status("FAILED", "")), "FAILED");
}

}  // namespace
}  // namespace bp
