// Progress of a run on the console: on a terminal one status line rewritten in place (done,
// running, queued, pruned, failed, elapsed, ETA, best so far); elsewhere (CI logs) a plain line
// per finished job; nothing with --quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace bp {

class ProgressDisplay : public ProgressListener {
 public:
  enum class Mode { kLive, kLines, kQuiet };
  using Clock = std::chrono::steady_clock;

  // total_jobs and pruned come from the plan (what the scenario will submit and skip).
  ProgressDisplay(Mode mode, uint64_t total_jobs, uint64_t pruned, std::FILE* out = stdout);
  ~ProgressDisplay() override;

  // Live when stdout is a terminal (and TERM is not "dumb"), else plain lines; quiet wins.
  static Mode mode_for_stdout(bool quiet);

  void submitted(const std::string& label) override;
  void running(const std::string& label) override;
  void finished(const RunRecord& record) override;
  void tick() override;
  // Erases the live line (before the results table is printed).
  void close();

  // The status text at `now` (tests pass their own clock).
  std::string status_text(Clock::time_point now) const;

 private:
  void draw(bool force);
  void clear_line();
  static void console_hook(bool before);

  Mode mode_;
  uint64_t total_;
  uint64_t pruned_;
  std::FILE* out_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_{};
  std::set<std::string> submitted_, running_;
  std::vector<RunRecord> finished_;
  size_t failed_ = 0;
  bool line_shown_ = false;
  bool closed_ = false;
};

// "1:02:03" or "2:03".
std::string format_duration(double seconds);

}  // namespace bp
