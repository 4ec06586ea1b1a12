#include "util/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "testkit/testkit.h"
#include "util/error.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using testkit::read_file;

ExitStatus wait_until_exit(pid_t pid) {
  for (int i = 0; i < 1000; ++i) {
    if (auto st = try_wait(pid)) return *st;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "process " << pid << " did not end";
  return terminate_group(pid, std::chrono::milliseconds(100));
}

TEST(RunCommand, CapturesStdoutStderrAndExitCode) {
  CommandResult r = run_command({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.status.code, 3);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status.describe(), "exit 3");
}

TEST(RunCommand, LooksUpPathAndPassesArgumentsWithoutAShell) {
  CommandResult r = run_command({"printf", "%s|", "a b", "$HOME", "'q'"});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "a b|$HOME|'q'|");
}

TEST(RunCommand, AddsEnvironmentAndWorkingDirectory) {
  testkit::TempDir dir;
  CommandOptions opts;
  opts.env = {{"BP_TEST_VAR", "hello"}, {"HOME", "/nowhere"}};
  opts.cwd = dir;
  CommandResult r = run_command({"/bin/sh", "-c", "echo $BP_TEST_VAR $HOME; pwd"}, opts);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "hello /nowhere\n" + fs::canonical(dir).string() + "\n");
}

TEST(RunCommand, MissingProgramIsReportedNotThrown) {
  CommandResult r = run_command({"bp-no-such-program-xyz"});
  EXPECT_FALSE(r.started);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.err.find("bp-no-such-program-xyz"), std::string::npos);
}

TEST(RunCommand, TimeoutKillsTheProcessGroup) {
  CommandOptions opts;
  opts.timeout = std::chrono::milliseconds(200);
  CommandResult r = run_command({"/bin/sh", "-c", "sleep 30 & sleep 30; echo never"}, opts);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status.signal, SIGKILL);
  EXPECT_EQ(r.out, "");
}

TEST(RunCommand, LargeOutputOnBothStreamsDoesNotDeadlock) {
  CommandResult r =
      run_command({"/bin/sh", "-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2"});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out.size(), 300000u);
  EXPECT_EQ(r.err.size(), 200000u);
}

TEST(Background, WritesOutputFilesAndReportsExit) {
  testkit::TempDir dir;
  BackgroundOptions opts;
  opts.stdout_path = dir / "out.txt";
  opts.stderr_path = dir / "err.txt";
  opts.env = {{"BP_BG", "value"}};
  pid_t pid = start_background({"/bin/bash", "-c", "echo $BP_BG; echo oops >&2; exit 4"}, opts);
  ExitStatus st = wait_until_exit(pid);
  EXPECT_EQ(st.code, 4);
  EXPECT_EQ(read_file(dir / "out.txt"), "value\n");
  EXPECT_EQ(read_file(dir / "err.txt"), "oops\n");
}

TEST(Background, RunsInItsOwnProcessGroup) {
  pid_t pid = start_background({"/bin/sleep", "5"}, {});
  EXPECT_EQ(getpgid(pid), pid);
  EXPECT_FALSE(try_wait(pid).has_value());
  ExitStatus st = terminate_group(pid, std::chrono::milliseconds(1000));
  EXPECT_EQ(st.signal, SIGTERM);
}

TEST(Background, TerminateGroupEscalatesToSigkill) {
  testkit::TempDir dir;
  BackgroundOptions opts;
  opts.stdout_path = dir / "out.txt";
  pid_t pid = start_background(
      {"/bin/bash", "-c", "trap '' TERM; echo ready; while true; do sleep 0.05; done"}, opts);
  for (int i = 0; i < 200 && read_file(dir / "out.txt").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ExitStatus st = terminate_group(pid, std::chrono::milliseconds(200));
  EXPECT_EQ(st.signal, SIGKILL);
}

// True while pid exists and is not a zombie.
bool alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  if (stat.empty()) return false;
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

TEST(Background, TryWaitGroupKillsLeftoverChildren) {
  testkit::TempDir dir;
  BackgroundOptions opts;
  opts.stdout_path = dir / "out.txt";
  pid_t pid = start_background({"/bin/bash", "-c", "sleep 30 & echo $!; exit 2"}, opts);
  std::optional<ExitStatus> st;
  for (int i = 0; i < 500 && !st; ++i) {
    st = try_wait_group(pid);
    if (!st) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->code, 2);
  pid_t child = std::stoi(read_file(dir / "out.txt"));
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = !alive(child);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "background child " << child << " survived its leader";
}

TEST(Background, StartFailureThrows) {
  EXPECT_THROW(start_background({"bp-no-such-program-xyz"}, {}), Error);
}

}  // namespace
}  // namespace bp
