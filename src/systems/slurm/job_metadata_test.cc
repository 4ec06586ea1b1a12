#include "systems/slurm/job_metadata.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "core/job_record.h"
#include "testkit/testkit.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

class SlurmJobRecord : public ::testing::Test {
 protected:
  void write(const std::string& text) { std::ofstream(dir_.path() / kSlurmJobFile) << text; }
  testkit::TempDir dir_;
};

// A file as benchpilot 972c231 (and CloudAI) wrote it: the reports, the store and the verdict
// read the same figures from it as they did then.
TEST_F(SlurmJobRecord, AFileOfEarlierReleasesReadsTheSame) {
  write(
      "job_id = 4242\nname = \"job_4242\"\nstate = \"TIMEOUT\"\nexit_code = \"0:15\"\n"
      "start_time = \"2026-11-02T10:00:00\"\nend_time = \"2026-11-02T10:30:00\"\n"
      "elapsed_time_sec = 1800\nnode_list = \"n[1-2]\"\nsource = \"sacct\"\n"
      "[[earlier_attempts]]\njob_id = \"4241\"\nstate = \"NODE_FAIL\"\nexit_code = 1\n"
      "signal = 9\n"
      "[[job_steps]]\nstep_id = \"batch\"\nstate = \"CANCELLED\"\n");
  std::optional<JobRecord> r = read_slurm_job_record(dir_.path());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->file, "slurm-job.toml");
  EXPECT_EQ(r->unreadable, "");
  EXPECT_EQ(r->job_id, "4242");
  EXPECT_EQ(r->state, "TIMEOUT");
  EXPECT_EQ(r->start_time, "2026-11-02T10:00:00");
  EXPECT_EQ(r->end_time, "2026-11-02T10:30:00");
  EXPECT_EQ(r->elapsed_seconds, 1800.0);
  ASSERT_EQ(r->attempts.size(), 2u);
  EXPECT_EQ(r->attempts[0].job_id, "4241");
  EXPECT_EQ(r->attempts[0].state, "NODE_FAIL");
  EXPECT_EQ(r->attempts[0].exit_code, 1);
  EXPECT_EQ(r->attempts[0].signal, 9);
  EXPECT_EQ(r->attempts[1].job_id, "4242");
  EXPECT_EQ(r->attempts[1].state, "TIMEOUT");
  EXPECT_EQ(r->attempts[1].exit_code, 0);
  EXPECT_EQ(r->attempts[1].signal, 15);
  // Through the registry, as judge, the reports and the store ask for it.
  std::optional<JobRecord> via_registry = read_job_record(dir_.path());
  ASSERT_TRUE(via_registry);
  EXPECT_EQ(via_registry->job_id, "4242");
  EXPECT_EQ(via_registry->attempts.size(), 2u);
  EXPECT_TRUE(is_job_record_file(kSlurmJobFile));
}

TEST_F(SlurmJobRecord, WrittenByTheExecutorsFunctionsAndReadBack) {
  JobFacts facts{"77", "j", "FAILED", "exit 3", dir_.path(), "sbatch x", "true"};
  Value doc = job_metadata_from_facts(facts);
  add_earlier_attempts(doc, {JobAttempt{"76", JobState::kPreempted, 143, 0}});
  write(to_toml_document(doc));
  std::optional<JobRecord> r = read_slurm_job_record(dir_.path());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->job_id, "77");
  EXPECT_EQ(r->state, "FAILED");
  EXPECT_FALSE(r->elapsed_seconds);  // benchpilot's own facts carry no times
  ASSERT_EQ(r->attempts.size(), 2u);
  EXPECT_EQ(r->attempts[0].job_id, "76");
  EXPECT_EQ(r->attempts[0].state, "PREEMPTED");
  EXPECT_EQ(r->attempts[0].exit_code, 143);
  EXPECT_EQ(r->attempts[1].job_id, "77");
  EXPECT_FALSE(r->attempts[1].exit_code);  // no "code:signal" recorded
}

TEST_F(SlurmJobRecord, NoFileIsNoRecord) {
  EXPECT_FALSE(read_slurm_job_record(dir_.path()));
  EXPECT_FALSE(read_job_record(dir_.path()));
}

// A damaged record is a record that says why (judge then says UNKNOWN, naming the file).
TEST_F(SlurmJobRecord, GarbageOrAWrongTypeProvesNothing) {
  write("state = [\n");
  std::optional<JobRecord> r = read_slurm_job_record(dir_.path());
  ASSERT_TRUE(r);
  EXPECT_NE(r->unreadable, "");
  EXPECT_EQ(r->state, "");
  EXPECT_TRUE(r->attempts.empty());

  write("state = 3\njob_id = 5\nelapsed_time_sec = \"long\"\n");
  r = read_slurm_job_record(dir_.path());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unreadable, "");
  EXPECT_EQ(r->state, "") << "only a string is a state";
  EXPECT_EQ(r->job_id, "5");
  EXPECT_FALSE(r->elapsed_seconds);
}

TEST_F(SlurmJobRecord, AFifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((dir_.path() / kSlurmJobFile).c_str(), 0600), 0);
  std::optional<JobRecord> r = read_slurm_job_record(dir_.path());
  ASSERT_TRUE(r);
  EXPECT_NE(r->unreadable.find("FIFO"), std::string::npos) << r->unreadable;
}

}  // namespace
}  // namespace bp
