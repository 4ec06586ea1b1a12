#include "core/run_folder.h"

#include <gtest/gtest.h>

#include "core/run_status.h"
#include "core/workload.h"
#include "testkit/testkit.h"
#include "util/error.h"

namespace bp {
namespace {

using testkit::TempDir;
using testkit::write_file;

TEST(RunStatusTest, EachStatusHasOneWordThatParsesBack) {
  for (RunStatus s : {RunStatus::kPassed, RunStatus::kFailed, RunStatus::kSkipped,
                      RunStatus::kUnknown, RunStatus::kDryRun})
    EXPECT_EQ(parse_run_status(to_string(s)), s) << to_string(s);
  EXPECT_EQ(to_string(RunStatus::kDryRun), "DRY-RUN");
  EXPECT_EQ(parse_run_status("passed"), std::nullopt);  // the words are upper case
  EXPECT_TRUE(counts_as_failed(RunStatus::kSkipped));
  EXPECT_FALSE(counts_as_failed(RunStatus::kUnknown));
}

TEST(RunFolderTest, ReadsTheFactsOfTestRunToml) {
  TempDir dir;
  write_file(dir / "test-run.toml",
             "name = \"c1\"\ncurrent_iteration = 2\nstep = 7\n"
             "[test_definition]\ntest_template_name = \"Sleep\"\n");
  std::optional<RunFolderFacts> f = read_run_folder_facts(dir);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->case_id, "c1");
  EXPECT_EQ(f->iteration, 2);
  EXPECT_EQ(f->step, 7);
  EXPECT_EQ(f->workload, "Sleep");
  const Workload* w = workload_of_run_folder(dir, &*f);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->name(), "Sleep");
  EXPECT_EQ(workload_of_run_folder(dir), w);
}

TEST(RunFolderTest, NoTestRunTomlIsNoFactsAndADamagedOneThrows) {
  TempDir dir;
  EXPECT_EQ(read_run_folder_facts(dir), std::nullopt);
  EXPECT_EQ(workload_of_run_folder(dir), nullptr);  // nothing recognizes an empty folder
  write_file(dir / "test-run.toml", "name = [[[");
  EXPECT_THROW(read_run_folder_facts(dir), Error);
  EXPECT_EQ(workload_of_run_folder(dir), nullptr);
}

TEST(RunFolderTest, AFolderWithoutTestRunTomlIsRecognizedByItsFiles) {
  TempDir dir;
  // A CloudAI Megatron-Bridge folder keeps only its launcher log.
  write_file(dir / "cloudai_megatron_bridge_launcher.log", "Step Time : 1.0s\n");
  const Workload* w = workload_of_run_folder(dir);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->name(), "MegatronBridge");
}

}  // namespace
}  // namespace bp
