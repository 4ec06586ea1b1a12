#include "loaders/verify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "core/workload.h"
#include "testkit/fake_sleep_workload.h"
#include "testkit/testkit.h"
#include "util/error.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const fs::path kGood = fs::path(BENCHPILOT_SOURCE_DIR) / "tests/data/config/good";

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override { lookup_ = testkit::fake_lookup(fake_); }

  void write(const std::string& rel, const std::string& text) {
    testkit::write_file(dir_ / rel, text);
  }
  std::string p(const std::string& rel) const { return (dir_ / rel).string(); }

  testkit::TempDir dir_;
  testkit::FakeSleepWorkload fake_;
  WorkloadLookup lookup_;
};

TEST_F(VerifyTest, GoodFixturesPass) {
  VerifyResult r = verify_configs(kGood, std::nullopt, lookup_);
  EXPECT_EQ(r.failed, 0);
  EXPECT_EQ(r.passed, 5);
  ASSERT_EQ(r.lines.size(), 6u);
  EXPECT_EQ(r.lines[0], "OK   " + (kGood / "scenario/sleep.toml").string() + " (scenario)");
  EXPECT_EQ(r.lines[1], "OK   " + (kGood / "system/slurm.toml").string() + " (system)");
  EXPECT_EQ(r.lines[3], "OK   " + (kGood / "test/megatron_like.toml").string() + " (test)");
  EXPECT_EQ(r.lines[5], "verified 5 files: 5 passed, 0 unsupported, 0 failed");
}

TEST_F(VerifyTest, MixedFolderReportsEachFile) {
  fs::copy(kGood, dir_, fs::copy_options::recursive);
  write("system/bad.toml", "name = 'x'\nscheduler = 'slrum'\n");
  write("test/bad.toml", "name = 'b'\ndescription = 'd'\ntest_template_name = 'Nope'\n");
  write("test/zdup.toml", "name = 'sleep'\ndescription = 'd'\ntest_template_name = 'Sleep'\n");
  write("scenario/bad.toml", "name = 's'\n[[Tests]]\nid = 'a'\ntest_name = 'missing'\n");
  write("notes.toml", "title = 'what am I'\n");
  write("syntax.toml", "name = \n");
  write("readme.txt", "not toml, ignored");

  VerifyResult r = verify_configs(dir_, std::nullopt, lookup_);
  EXPECT_EQ(r.passed, 5);
  EXPECT_EQ(r.failed, 6);
  ASSERT_EQ(r.lines.size(), 12u);
  EXPECT_EQ(r.lines[0], "FAIL " + p("notes.toml") +
                            ": cannot tell what this file is: expected a system (scheduler = "
                            "...), a test (test_template_name = ...) or a scenario ([[Tests]])");
  EXPECT_THAT(r.lines[1], StartsWith("FAIL " + p("scenario/bad.toml") +
                                     ":4: Tests[0].test_name: "
                                     "unknown test \"missing\""));
  EXPECT_EQ(r.lines[2], "OK   " + p("scenario/sleep.toml") + " (scenario)");
  EXPECT_THAT(r.lines[3], StartsWith("FAIL " + p("syntax.toml") + ":1: invalid TOML"));
  EXPECT_THAT(r.lines[4], StartsWith("FAIL " + p("system/bad.toml") +
                                     ":2: scheduler: unsupported scheduler \"slrum\""));
  EXPECT_THAT(r.lines[7], StartsWith("FAIL " + p("test/bad.toml") +
                                     ":3: test_template_name: unknown test_template_name"));
  EXPECT_THAT(r.lines[10], StartsWith("FAIL " + p("test/zdup.toml") +
                                      ":1: name: duplicate test name \"sleep\""));
  EXPECT_EQ(r.lines[11], "verified 11 files: 5 passed, 0 unsupported, 6 failed");
}

TEST_F(VerifyTest, ScenariosUseTestsDirWhenGiven) {
  write("tests/only.toml", "name = 'only'\ndescription = 'd'\ntest_template_name = 'Sleep'\n");
  write("conf/scenario.toml", "name = 's'\n[[Tests]]\nid = 'a'\ntest_name = 'only'\n");
  write("conf/scenario2.toml", "name = 's'\n[[Tests]]\nid = 'a'\ntest_name = 'sleep'\n");
  VerifyResult r = verify_configs(dir_ / "conf", dir_ / "tests", lookup_);
  EXPECT_EQ(r.passed, 1);
  EXPECT_EQ(r.failed, 1);
  EXPECT_THAT(r.lines[1], HasSubstr("unknown test \"sleep\""));

  r = verify_configs(dir_ / "conf", dir_ / "no-such-dir", lookup_);
  EXPECT_EQ(r.failed, 2);
  EXPECT_THAT(r.lines[0], HasSubstr("cannot load the tests in " + p("no-such-dir")));
}

// CloudAI loads one tests folder at a time (--tests-dir): the same name in sibling folders
// (conf/common/test and conf/hook/test) is not a duplicate.
TEST_F(VerifyTest, DuplicateTestNameIsAnErrorOnlyWithinOneFolder) {
  const std::string sleep = "name = 'nccl'\ndescription = 'd'\ntest_template_name = 'Sleep'\n";
  write("common/test/nccl.toml", sleep);
  write("hook/test/nccl.toml", sleep);
  write("scenario/s.toml", "name = 's'\n[[Tests]]\nid = 'a'\ntest_name = 'nccl'\n");
  VerifyResult r = verify_configs(dir_, std::nullopt, lookup_);
  EXPECT_EQ(r.failed, 0) << r.lines[0];
  EXPECT_EQ(r.passed, 3);

  write("hook/test/nccl_again.toml", sleep);
  r = verify_configs(dir_, std::nullopt, lookup_);
  EXPECT_EQ(r.failed, 1);
  EXPECT_THAT(r.lines[2], StartsWith("FAIL " + p("hook/test/nccl_again.toml") +
                                     ":1: name: duplicate test name \"nccl\": also defined in " +
                                     p("hook/test/nccl.toml")));
}

// Files for CloudAI's workloads and schedulers that benchpilot lacks are counted apart, and so
// are scenarios using such tests; an unknown name that CloudAI lacks too is still an error.
TEST_F(VerifyTest, CloudAiOnlyWorkloadsAndSchedulersAreCountedApart) {
  write("test/gpt.toml",
        "name = 'gpt'\ndescription = 'd'\ntest_template_name = 'NeMoLauncher'\n"
        "[cmd_args]\nwhatever = 1\n");
  write("test/typo.toml", "name = 't'\ndescription = 'd'\ntest_template_name = 'Slep'\n");
  write("system/k8s.toml", "name = 'k'\nscheduler = 'kubernetes'\n");
  write("scenario/gpt.toml", "name = 's'\n[[Tests]]\nid = 'a'\ntest_name = 'gpt'\n");
  write("scenario/inline.toml",
        "name = 's'\n[[Tests]]\nid = 'a'\ntest_template_name = 'AIDynamo'\n");
  VerifyResult r = verify_configs(dir_, std::nullopt, lookup_);
  EXPECT_EQ(r.passed, 0);
  EXPECT_EQ(r.unsupported, 4);
  EXPECT_EQ(r.failed, 1);
  EXPECT_FALSE(r.ok(false));
  EXPECT_EQ(r.lines[0], "SKIP " + p("scenario/gpt.toml") +
                            ": test \"gpt\" is not checked (unsupported workload NeMoLauncher): "
                            "not an error in the file");
  EXPECT_EQ(r.lines[1], "SKIP " + p("scenario/inline.toml") +
                            ": unsupported workload AIDynamo: not an error in the file");
  EXPECT_EQ(r.lines[2], "SKIP " + p("system/k8s.toml") +
                            ": unsupported scheduler kubernetes: not an error in the file");
  EXPECT_EQ(r.lines[3], "SKIP " + p("test/gpt.toml") +
                            ": unsupported workload NeMoLauncher: not an error in the file");
  EXPECT_THAT(r.lines[4], StartsWith("FAIL " + p("test/typo.toml")));
  EXPECT_EQ(r.lines[5], "verified 5 files: 0 passed, 4 unsupported, 1 failed");

  fs::remove(dir_ / "test/typo.toml");
  r = verify_configs(dir_, std::nullopt, lookup_);
  EXPECT_TRUE(r.ok(false));
  EXPECT_FALSE(r.ok(true));  // --strict
}

// A test of a CloudAI-only workload in a --tests-dir is skipped there too, where any real error
// would fail the scenarios.
TEST_F(VerifyTest, UnsupportedTestInTestsDirDoesNotFailScenarios) {
  write("tests/only.toml", "name = 'only'\ndescription = 'd'\ntest_template_name = 'Sleep'\n");
  write("tests/gpt.toml", "name = 'gpt'\ndescription = 'd'\ntest_template_name = 'NeMoRun'\n");
  write("conf/scenario.toml", "name = 's'\n[[Tests]]\nid = 'a'\ntest_name = 'only'\n");
  VerifyResult r = verify_configs(dir_ / "conf", dir_ / "tests", lookup_);
  EXPECT_EQ(r.passed, 1) << r.lines[0];
  EXPECT_EQ(r.failed, 0);
}

TEST_F(VerifyTest, MissingOrEmptyFolder) {
  VerifyResult r = verify_configs(dir_ / "absent", std::nullopt, lookup_);
  EXPECT_EQ(r.failed, 1);
  EXPECT_THAT(r.lines, ElementsAre("FAIL " + p("absent") + ": not a directory"));
  r = verify_configs(dir_, std::nullopt, lookup_);
  EXPECT_EQ(r.passed + r.failed, 0);
  EXPECT_THAT(r.lines, ElementsAre("no .toml files under " + dir_.string(),
                                   "verified 0 files: 0 passed, 0 unsupported, 0 failed"));
}

}  // namespace
}  // namespace bp
