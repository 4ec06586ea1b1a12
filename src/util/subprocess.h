// Starting and watching child processes without a shell: short commands whose output we read
// (sbatch, squeue, ...), and long-running background processes in their own process group
// (benchmark wrappers, jobs run on this machine) that we poll and kill.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/error.h"

namespace bp {

// Variables added to (or replacing those of) our own environment for a child.
using EnvAdditions = std::vector<std::pair<std::string, std::string>>;

// How a process ended.
struct ExitStatus {
  int code = 0;    // exit code when it exited
  int signal = 0;  // the signal that killed it; 0 when it exited
  bool ok() const { return code == 0 && signal == 0; }
  // "exit 3", "signal 9".
  std::string describe() const;
};

struct CommandOptions {
  std::chrono::milliseconds timeout{60000};
  EnvAdditions env;
  std::filesystem::path cwd;  // empty: ours
};

struct CommandResult {
  bool started = true;     // false: the program could not be started (err says why)
  bool timed_out = false;  // killed after CommandOptions::timeout
  ExitStatus status;
  std::string out;
  std::string err;
  // True when it started, did not time out and exited 0.
  bool ok() const { return started && !timed_out && status.ok(); }
};

// Runs argv[0] (looked up in PATH) with stdin from /dev/null and captures stdout and stderr.
// On timeout the child's whole process group is killed. Never throws for a failing command.
CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& opts = {});

struct BackgroundOptions {
  EnvAdditions env;
  std::filesystem::path cwd;          // empty: ours
  std::filesystem::path stdout_path;  // truncated; empty: /dev/null
  std::filesystem::path stderr_path;  // truncated; empty: /dev/null
};

// Starts argv in the background as the leader of a new process group (so the whole tree can be
// signalled) and returns its pid. Throws Error when it cannot be started.
pid_t start_background(const std::vector<std::string>& argv, const BackgroundOptions& opts);

// Non-blocking: the exit status once the child ended (it is then reaped), nullopt while it runs.
// A pid that is not our child reads as ended with exit code -1.
std::optional<ExitStatus> try_wait(pid_t pid);

// Like try_wait, but once the leader has ended, SIGKILLs whatever it left running in its process
// group (background children) before reaping it, so nothing it started outlives it.
std::optional<ExitStatus> try_wait_group(pid_t pid);

// Sends sig to every process of the group led by pgid (missing groups are ignored).
void signal_group(pid_t pgid, int sig);

// Stops a background child and its group: SIGTERM, up to `grace` for the leader to exit, then
// SIGKILL to the group. Reaps the leader and returns how it ended.
ExitStatus terminate_group(pid_t pid, std::chrono::milliseconds grace);

}  // namespace bp
