#include "workloads/sleep/sleep.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/toml_reader.h"
#include "testkit/testkit.h"
#include "util/log.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

TestDefinition sleep_test(std::string_view toml) {
  Value doc = read_toml_string(toml, "sleep.toml");
  TestDefinition t;
  t.name = "sleep";
  t.test_template_name = "Sleep";
  t.loc = SourceLoc{"sleep.toml", 1};
  if (const Value* v = doc.find("cmd_args")) t.cmd_args = *v;
  t.raw = doc;
  return t;
}

std::string validate_error(std::string_view toml) {
  try {
    sleep_workload().validate(sleep_test(toml));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

RunSpec prepare_for(std::string_view toml) {
  System system;
  system.name = "local";
  system.scheduler = "standalone";
  TestRun run;
  run.id = "Tests.sleep";
  run.test = sleep_test(toml);
  testkit::TempDir run_dir;
  RunContext ctx{system, run, run_dir, 1, {}, true};
  return sleep_workload().prepare(ctx);
}

TEST(SleepWorkload, IsRegistered) {
  const Workload* w = find_workload("Sleep");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w, &sleep_workload());
  EXPECT_EQ(w->info().cmd_args_fields, std::vector<std::string>{"seconds"});
}

TEST(SleepWorkload, PrepareRunsSleep) {
  RunSpec spec = prepare_for("[cmd_args]\nseconds = 30\n");
  EXPECT_EQ(spec.command, "sleep 30");
  EXPECT_FALSE(spec.self_submitting);
  EXPECT_TRUE(spec.process_env.empty());
  EXPECT_EQ(prepare_for("name = \"x\"\n").command, "sleep 5");  // CloudAI's default
  EXPECT_EQ(prepare_for("[cmd_args]\nseconds = \"7\"\n").command, "sleep 7");
}

TEST(SleepWorkload, PrepareRejectsUnexpandedList) {
  EXPECT_THROW(prepare_for("[cmd_args]\nseconds = [1, 2]\n"), ConfigError);
}

TEST(SleepWorkload, ValidateAcceptsIntegersAndSweeps) {
  EXPECT_EQ(validate_error("[cmd_args]\nseconds = 5\n"), "");
  EXPECT_EQ(validate_error("[cmd_args]\nseconds = [1, 2, 3]\n"), "");
  EXPECT_EQ(validate_error("name = \"no args\"\n"), "");
}

TEST(SleepWorkload, ValidateErrorsNameFileLineAndKey) {
  EXPECT_EQ(validate_error("[cmd_args]\n\nseconds = \"soon\"\n"),
            "sleep.toml:3: cmd_args.seconds: expected an integer, got the string \"soon\"");
  EXPECT_EQ(validate_error("[cmd_args]\nseconds = -1\n"),
            "sleep.toml:2: cmd_args.seconds: expected a non-negative number of seconds, got -1");
  EXPECT_EQ(validate_error("[cmd_args]\nseconds = []\n"),
            "sleep.toml:2: cmd_args.seconds: expected an integer or a non-empty list of "
            "integers, got an empty list");
  std::string item = validate_error("[cmd_args]\nseconds = [1, 2.5]\n");
  EXPECT_NE(item.find("cmd_args.seconds[1]: expected an integer"), std::string::npos) << item;
}

// seconds is read by the one integer rule, pydantic's lax int, as CloudAI does.
TEST(SleepWorkload, SecondsFollowTheOneIntegerRule) {
  EXPECT_EQ(prepare_for("[cmd_args]\nseconds = \"+7\"\n").command, "sleep 7");
  EXPECT_EQ(prepare_for("[cmd_args]\nseconds = \" 1_0 \"\n").command, "sleep 10");
  EXPECT_EQ(prepare_for("[cmd_args]\nseconds = 3.0\n").command, "sleep 3");
  EXPECT_EQ(prepare_for("[cmd_args]\nseconds = true\n").command, "sleep 1");
  EXPECT_EQ(validate_error("[cmd_args]\nseconds = 1.5\n"),
            "sleep.toml:2: cmd_args.seconds: expected an integer, got float 1.5 (a fractional "
            "part, not finite, or beyond 64 bits)");
  EXPECT_EQ(validate_error("[cmd_args]\nseconds = \"-0\"\n"), "");
}

TEST(SleepWorkload, UnknownKeysWarn) {
  int before = log::warning_count();
  EXPECT_EQ(validate_error("[cmd_args]\nsecond = 5\n"), "");
  EXPECT_EQ(log::warning_count(), before + 1);
}

TEST(SleepWorkload, VerdictIsSuccess) {
  testkit::TempDir run_dir;
  RunVerdict v = sleep_workload().read(run_dir).verdict;
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.message, "");
}

TEST(SleepWorkload, CanHandleItsTestRunDump) {
  testkit::TempDir dir;
  EXPECT_FALSE(sleep_workload().recognizes(dir));
  std::ofstream(dir / "test-run.toml")
      << "name = \"Tests.sleep\"\n[test_definition]\ntest_template_name = \"Sleep\"\n";
  EXPECT_TRUE(sleep_workload().recognizes(dir));
  std::ofstream(dir / "test-run.toml")
      << "name = \"Tests.mb\"\n[test_definition]\ntest_template_name = \"MegatronBridge\"\n";
  EXPECT_FALSE(sleep_workload().recognizes(dir));
  std::ofstream(dir / "test-run.toml") << "not [ toml";
  EXPECT_FALSE(sleep_workload().recognizes(dir));
}

}  // namespace
}  // namespace bp
