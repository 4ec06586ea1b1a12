#include "testkit/testkit.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "testkit/builders.h"
#include "testkit/fake_command_runner.h"

namespace bp::testkit {
namespace {

namespace fs = std::filesystem;

TEST(TempDir, IsFreshEmptyNamedAfterTheTestAndRemovedWithItsContent) {
  fs::path kept;
  {
    TempDir a;
    TempDir b;
    kept = a.path();
    EXPECT_NE(a.path(), b.path());
    EXPECT_TRUE(fs::is_directory(a));
    EXPECT_TRUE(fs::is_empty(a));
    EXPECT_EQ(kept.parent_path(), fs::temp_directory_path());
    EXPECT_NE(kept.filename().string().find("TempDir.IsFreshEmpty"), std::string::npos) << kept;
    write_file(a / "deep" / "er" / "file.txt", "x");
    fs::create_directories(a / "locked" / "inner");
    write_file(a / "locked" / "inner" / "f", "y");
    fs::permissions(a / "locked", fs::perms::owner_read);  // a test that took permissions away
  }
  EXPECT_FALSE(fs::exists(kept));
}

TEST(TempDir, TagReplacesTheTestNameAndOddCharactersAreReplaced) {
  TempDir d("a/b c");
  EXPECT_EQ(d.path().filename().string().rfind("bp-a_b_c-", 0), 0u) << d.path();
}

TEST(Files, WriteCreatesParentsAndReadReturnsTheBytes) {
  TempDir d;
  std::string bytes("a\0b\r\n\xff", 6);
  fs::path p = write_file(d / "x" / "y.bin", bytes);
  EXPECT_EQ(p, d / "x" / "y.bin");
  EXPECT_EQ(read_file(p), bytes);
  write_file(p, "short");
  EXPECT_EQ(read_file(p), "short");  // truncated, not overwritten in place
  EXPECT_EQ(read_file(d / "missing"), "");
  EXPECT_THROW(write_file(d / "x", "x is a directory"), std::runtime_error);
}

TEST(Files, WriteExecutableRuns) {
  TempDir d;
  fs::path script = write_executable(d / "bin" / "hello", "#!/bin/sh\necho hi > \"$1\"\n");
  EXPECT_EQ(std::system((script.string() + " " + (d / "out").string()).c_str()), 0);
  EXPECT_EQ(read_file(d / "out"), "hi\n");
}

TEST(ScopedEnv, SetsAndUnsetsThenRestores) {
  ::setenv("BP_TESTKIT_VAR", "before", 1);
  {
    ScopedEnv set("BP_TESTKIT_VAR", "during");
    EXPECT_STREQ(::getenv("BP_TESTKIT_VAR"), "during");
    {
      ScopedEnv unset("BP_TESTKIT_VAR", std::nullopt);
      EXPECT_EQ(::getenv("BP_TESTKIT_VAR"), nullptr);
    }
    EXPECT_STREQ(::getenv("BP_TESTKIT_VAR"), "during");
  }
  EXPECT_STREQ(::getenv("BP_TESTKIT_VAR"), "before");
  ::unsetenv("BP_TESTKIT_VAR");
  { ScopedEnv set("BP_TESTKIT_VAR", "x"); }
  EXPECT_EQ(::getenv("BP_TESTKIT_VAR"), nullptr);
}

TEST(FakeCommandRunner, AnswersRecordsAndKeepsItsOwnClock) {
  FakeCommandRunner runner([](const std::vector<std::string>& argv) {
    return argv[0] == "squeue" ? FakeCommandRunner::ok("1 R") : FakeCommandRunner::fail("no", 2);
  });
  auto start = runner.now();
  EXPECT_EQ(runner.run({"squeue", "-h"}, {}).out, "1 R");
  EXPECT_EQ(runner.run({"sacct"}, {}).status.code, 2);
  runner.sleep(std::chrono::milliseconds(30));
  EXPECT_EQ(runner.now() - start, std::chrono::milliseconds(30));
  EXPECT_EQ(runner.count("squeue"), 1);
  EXPECT_EQ(runner.calls, (std::vector<std::string>{"squeue -h", "sacct"}));
}

TEST(Builders, SleepRunIsASleepCaseWithItsSeconds) {
  TestRun r = sleep_run("nap", 3, "[1, 2]");
  EXPECT_EQ(r.id, "nap");
  EXPECT_EQ(r.iterations, 3);
  EXPECT_EQ(r.test.name, "sleep");
  EXPECT_EQ(r.test.test_template_name, "Sleep");
  const Value* seconds = r.test.cmd_args.find("seconds");
  ASSERT_NE(seconds, nullptr);
  EXPECT_EQ(seconds->size(), 2u);
  EXPECT_EQ(sleep_run("one").test.cmd_args.find("seconds")->as_int(), 1);
}

}  // namespace
}  // namespace bp::testkit
