// Every scheduler command goes through here: transient failures are retried with exponential
// backoff, and each call is counted (total, per command, per poll round) so the load benchpilot
// puts on slurmctld/slurmdbd is visible.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "systems/slurm/command_runner.h"

namespace bp {

// Whether SlurmCommands::call runs a command again after a transient failure. kNo where a retry
// could act twice (sbatch: its caller first asks Slurm whether the job was queued).
enum class Retry { kYes, kNo };

struct RetryPolicy {
  std::chrono::milliseconds first_pause{10000};  // system.status_retry_pause_seconds
  std::chrono::milliseconds max_pause{60000};
  int max_attempts = 3;
  // stderr substrings that mean "try again": the built-in ones plus the system's
  // extra_transient_status_errors.
  std::vector<std::string> transient_patterns = {"Socket timed out", "slurm_load_jobs error",
                                                 "Unable to contact slurm controller",
                                                 "Connection refused", "Transport endpoint"};
};

struct SchedulerCallStats {
  int64_t total = 0;
  std::map<std::string, int64_t> by_command;  // "squeue" -> n
  int64_t retries = 0;
  int64_t poll_rounds = 0;
  int64_t calls_in_polls = 0;
  int64_t max_calls_per_round = 0;
  int64_t last_round_calls = 0;
  double calls_per_round() const {
    return poll_rounds ? static_cast<double>(calls_in_polls) / static_cast<double>(poll_rounds) : 0;
  }
};

class SlurmCommands {
 public:
  SlurmCommands(CommandRunner& runner, RetryPolicy policy);

  // Runs a scheduler command. With Retry::kYes, when it fails transiently, runs it again after
  // first_pause, 2*first_pause, ... (capped) up to max_attempts in all. Returns the last
  // attempt. Never throws.
  CommandResult call(const std::vector<std::string>& argv, Retry retry = Retry::kYes,
                     const CommandOptions& opts = {});

  // A failure worth retrying: timed out, or stderr holds a transient pattern. "Invalid job id"
  // is an answer, not a hiccup, even though it comes as "slurm_load_jobs error: ...".
  bool is_transient(const CommandResult& r) const;

  // Brackets one poll round, for the per-round counters.
  void begin_round();
  void end_round();

  const SchedulerCallStats& stats() const { return stats_; }
  CommandRunner& runner() { return runner_; }

 private:
  CommandRunner& runner_;
  RetryPolicy policy_;
  SchedulerCallStats stats_;
  bool in_round_ = false;
  int64_t round_calls_ = 0;
};

// What a failed command said, for a message: its stderr, else how it ended ("timed out").
std::string error_text(const CommandResult& r);
// The first line of `text`, trimmed.
std::string first_line(std::string_view text);

}  // namespace bp
