#include "systems/slurm/slurm_output.h"

#include <gtest/gtest.h>

namespace bp {
namespace {

TEST(SlurmOutput, ParsableJobId) {
  EXPECT_EQ(parse_parsable_job_id("1234\n"), "1234");
  EXPECT_EQ(parse_parsable_job_id("1234;cluster2\n"), "1234");
  EXPECT_EQ(parse_parsable_job_id("\n 77 \n"), "77");
  EXPECT_FALSE(parse_parsable_job_id(""));
  EXPECT_FALSE(parse_parsable_job_id("sbatch: error: Batch job submission failed\n"));
}

TEST(SlurmOutput, SubmittedJobIdLines) {
  EXPECT_EQ(find_submitted_job_id("Submitted batch job 42\n"), "42");
  EXPECT_EQ(find_submitted_job_id("pip noise\nSubmitted batch job   9001\nmore\n"), "9001");
  EXPECT_EQ(find_submitted_job_id("[NeMo I] Job submitted with Job ID 555\n"), "555");
  EXPECT_EQ(find_submitted_job_id("Submitted batch job \nSubmitted batch job 8\n"), "8");
  EXPECT_FALSE(find_submitted_job_id("Submitted batch job"));
  EXPECT_FALSE(find_submitted_job_id("Failed to retrieve job ID.\n"));
  EXPECT_EQ(parse_sbatch_job_id("Submitted batch job 3\n"), "3");
  EXPECT_EQ(parse_sbatch_job_id("3;c\n"), "3");
  EXPECT_FALSE(parse_sbatch_job_id("error\n"));
}

TEST(SlurmOutput, EverySubmittedJobIdInOrder) {
  using V = std::vector<std::string>;
  EXPECT_EQ(find_submitted_job_ids(""), V{});
  EXPECT_EQ(find_submitted_job_ids("Submitted batch job 7\nnoise\nSubmitted batch job 8\n"),
            (V{"7", "8"}));
  EXPECT_EQ(find_submitted_job_ids("Submitted batch job \nSubmitted batch job 9"), V{"9"});
  EXPECT_EQ(find_submitted_job_ids("Submitted batch job 9\nSubmitted batch job 9\n"),
            (V{"9", "9"}));  // deduplicating is the caller's business
}

TEST(SlurmOutput, SqueueLines) {
  // Captured from Slurm 22.05: squeue -h -j 3,2,1 --states=all -o '%i|%T|%r'
  auto s = parse_squeue_output(
      "3|COMPLETING|None\n"
      "2|FAILED|NonZeroExitCode\n"
      "1|RUNNING|None\n"
      "4|PENDING|ReqNodeNotAvail, UnavailableNodes:node[1-2]\n");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].id, "3");
  EXPECT_EQ(s[0].state, JobState::kCompleting);
  EXPECT_EQ(s[0].reason, "");
  EXPECT_EQ(s[1].state, JobState::kFailed);
  EXPECT_EQ(s[1].reason, "NonZeroExitCode");
  EXPECT_EQ(s[2].state, JobState::kRunning);
  EXPECT_EQ(s[3].state, JobState::kPending);
  EXPECT_EQ(s[3].reason, "ReqNodeNotAvail, UnavailableNodes:node[1-2]");
  EXPECT_TRUE(parse_squeue_output("").empty());
}

TEST(SlurmOutput, SacctStates) {
  // Captured (Slurm 22.05): sacct -j 1,2,3 --format=<kSacctFields> -P -n
  auto rows = parse_sacct_rows(
      "1|wrap|COMPLETED|0:0|None|2026-11-24T19:44:55|2026-11-24T19:44:59|4|node1|sbatch x\n"
      "1.batch|batch|COMPLETED|0:0||2026-11-24T19:44:55|2026-11-24T19:44:59|4|node1|\n"
      "2|wrap|FAILED|3:0|None|2026-11-24T19:44:55|2026-11-24T19:44:56|1|node1|sbatch y\n"
      "3|wrap|CANCELLED by 0|0:0|None|2026-11-24T19:44:55|2026-11-24T19:44:56|1|node1|s\n"
      "5|wrap|TIMEOUT|0:15|TimeLimit|2026-11-24T19:44:55|2026-11-24T19:46:26|91|node1|s\n"
      "6|wrap|OUT_OF_MEMORY|0:125|None|2026-11-24T19:44:55|2026-11-24T19:44:56|1|node1|s\n"
      "7|wrap|PENDING|0:0|Priority|Unknown|Unknown|0|None assigned|s\n");
  auto s = job_statuses(rows);
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[0].id, "1");
  EXPECT_EQ(s[0].state, JobState::kCompleted);
  EXPECT_EQ(s[1].state, JobState::kFailed);
  EXPECT_EQ(s[1].exit_code, "3:0");
  EXPECT_EQ(describe_outcome(s[1]), "exit 3");
  EXPECT_EQ(s[2].state, JobState::kCancelled);
  EXPECT_EQ(s[2].state_text, "CANCELLED by 0");
  EXPECT_EQ(describe_outcome(s[2]), "CANCELLED by 0");
  EXPECT_EQ(s[3].state, JobState::kTimeout);
  EXPECT_EQ(s[3].reason, "TimeLimit");
  EXPECT_EQ(s[4].state, JobState::kOutOfMemory);
  EXPECT_EQ(s[5].state, JobState::kPending);
  EXPECT_EQ(s[5].reason, "Priority");
}

TEST(SlurmOutput, ScontrolShowJob) {
  // Abridged `scontrol show job 2` (multi-line form).
  const char* text =
      "JobId=2 JobName=wrap\n"
      "   UserId=root(0) GroupId=root(0) MCS_label=N/A\n"
      "   JobState=FAILED Reason=NonZeroExitCode Dependency=(null)\n"
      "   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0\n"
      "   StartTime=2026-11-24T19:44:55 EndTime=2026-11-24T19:44:56 Deadline=N/A\n"
      "   AllocNode:Sid=localhost:7716\n"
      "   NodeList=node1\n"
      "   TRES=cpu=1,node=1,billing=1\n";
  auto kv = parse_key_values(text);
  EXPECT_EQ(kv["JobName"], "wrap");
  EXPECT_EQ(kv["AllocNode:Sid"], "localhost:7716");
  EXPECT_EQ(kv["TRES"], "cpu=1,node=1,billing=1");
  auto s = status_from_key_values(kv);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id, "2");
  EXPECT_EQ(s->state, JobState::kFailed);
  EXPECT_EQ(s->exit_code, "3:0");
  EXPECT_EQ(describe_outcome(*s), "exit 3");
}

TEST(SlurmOutput, ValuesWithSpacesContinue) {
  auto kv = parse_key_values(
      "JobId=9 JobState=PENDING Reason=ReqNodeNotAvail, UnavailableNodes:node1 Dependency=(null)");
  EXPECT_EQ(kv["Reason"], "ReqNodeNotAvail, UnavailableNodes:node1");
  EXPECT_EQ(kv["Dependency"], "(null)");
  EXPECT_FALSE(status_from_key_values(parse_key_values("JobState=RUNNING")));
}

TEST(SlurmOutput, JobCompletionLogLine) {
  auto s = status_from_key_values(parse_key_values(
      "JobId=3 UserId=root(0) GroupId=root(0) Name=wrap JobState=CANCELLED Partition=debug "
      "TimeLimit=UNLIMITED StartTime=2026-11-24T19:44:55 EndTime=2026-11-24T19:44:56 "
      "NodeList=node1 NodeCnt=1 ProcCnt=1 WorkDir=/tmp ReservationName= "
      "Tres=cpu=1,mem=12052M,node=1,billing=1 Account=root QOS=normal WcKey= Cluster=localci "
      "DerivedExitCode=0:0 ExitCode=0:0 "));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id, "3");
  EXPECT_EQ(s->state, JobState::kCancelled);
  EXPECT_EQ(s->exit_code, "0:0");
}

TEST(SlurmOutput, SacctRows) {
  // The submit line (last field) itself holds a '|'.
  auto rows = parse_sacct_rows(
      "2|wrap|FAILED|3:0|None|2026-11-24T19:44:55|2026-11-24T19:44:56|1|node1|sbatch --wrap a|b\n"
      "2.batch|batch|FAILED|3:0||2026-11-24T19:44:55|2026-11-24T19:44:56|1|node1|\n"
      "2.extern|extern|COMPLETED|0:0||2026-11-24T19:44:55|2026-11-24T19:44:56|1|node1|\n"
      "short|row\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].job_id, "2");
  EXPECT_EQ(rows[0].step, "");
  EXPECT_EQ(rows[0].name, "wrap");
  EXPECT_EQ(rows[0].reason, "None");
  EXPECT_EQ(rows[0].elapsed_sec, 1);
  EXPECT_EQ(rows[0].node_list, "node1");
  EXPECT_EQ(rows[0].submit_line, "sbatch --wrap a|b");
  EXPECT_EQ(rows[1].job_id, "2");
  EXPECT_EQ(rows[1].step, "batch");
  EXPECT_EQ(rows[2].step, "extern");
}

TEST(SlurmOutput, Durations) {
  EXPECT_EQ(parse_slurm_duration("00:00:01"), 1);
  EXPECT_EQ(parse_slurm_duration("1-02:03:04"), 93784);
  // Found by fuzz_slurm_output: a 20-digit day count made std::stoll throw out of the parser.
  EXPECT_EQ(parse_slurm_duration("02999999026409999999999-99999"), std::nullopt);
  EXPECT_TRUE(parse_sacct_rows("1|w|COMPLETED|0:0|None|a|b|99999999999999999999999|n|s\n")
                  .front()
                  .elapsed_sec <= 0);
  EXPECT_EQ(parse_slurm_duration("05:30"), 330);
  EXPECT_EQ(parse_slurm_duration("42"), 42);
  EXPECT_FALSE(parse_slurm_duration("UNLIMITED"));
  EXPECT_FALSE(parse_slurm_duration(""));
  EXPECT_FALSE(parse_slurm_duration("1:2:3:4"));
}

TEST(SlurmOutput, ScontrolConfigValue) {
  const char* text =
      "Configuration data as of 2026-11-24T19:40:00\n"
      "GresTypes               = gpu\n"
      "JobCompLoc              = /tmp/x/log/jobcomp.txt\n"
      "JobCompType             = jobcomp/filetxt\n";
  EXPECT_EQ(config_value(text, "JobCompLoc"), "/tmp/x/log/jobcomp.txt");
  EXPECT_EQ(config_value(text, "JobCompType"), "jobcomp/filetxt");
  EXPECT_FALSE(config_value(text, "JobComp"));
}

}  // namespace
}  // namespace bp
