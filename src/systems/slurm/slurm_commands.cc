#include "systems/slurm/slurm_commands.h"

#include "util/backoff.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

SlurmCommands::SlurmCommands(CommandRunner& runner, RetryPolicy policy)
    : runner_(runner), policy_(std::move(policy)) {}

bool SlurmCommands::is_transient(const CommandResult& r) const {
  if (r.ok() || !r.started) return false;
  if (r.timed_out) return true;
  if (contains(r.err, "Invalid job id")) return false;
  for (const std::string& p : policy_.transient_patterns)
    if (!p.empty() && contains(r.err, p)) return true;
  return false;
}

CommandResult SlurmCommands::call(const std::vector<std::string>& argv, Retry retry,
                                  const CommandOptions& opts) {
  const std::string name = argv.empty() ? std::string() : argv[0];
  CommandResult r;
  for (int attempt = 0;; ++attempt) {
    ++stats_.total;
    ++stats_.by_command[name];
    if (in_round_) ++round_calls_;
    r = runner_.run(argv, opts);
    if (retry == Retry::kNo || attempt + 1 >= policy_.max_attempts || !is_transient(r)) break;
    auto pause = backoff_delay(attempt, policy_.first_pause, policy_.max_pause);
    log::warn(name + " failed transiently (" + std::string(trim(r.err)) + "); retrying in " +
              std::to_string(pause.count()) + " ms");
    ++stats_.retries;
    runner_.sleep(pause);
  }
  return r;
}

void SlurmCommands::begin_round() {
  in_round_ = true;
  round_calls_ = 0;
}

void SlurmCommands::end_round() {
  if (!in_round_) return;
  in_round_ = false;
  ++stats_.poll_rounds;
  stats_.calls_in_polls += round_calls_;
  stats_.last_round_calls = round_calls_;
  if (round_calls_ > stats_.max_calls_per_round) stats_.max_calls_per_round = round_calls_;
}

std::string first_line(std::string_view text) {
  std::string_view t = trim(text);
  return std::string(t.substr(0, t.find('\n')));
}

std::string error_text(const CommandResult& r) {
  if (r.timed_out) return "timed out";
  std::string err(trim(r.err));
  return err.empty() ? r.status.describe() : err;
}

}  // namespace bp
