#include "cli/progress.h"

#include "core/workload.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "core/workload.h"
#include "report/results_data.h"
#include "report/summary.h"
#include "report/svg_chart.h"
#include "util/log.h"

namespace bp {
namespace {

// The display whose line the log hook clears and redraws (one live line per process).
ProgressDisplay* g_live = nullptr;

// How often tick() redraws the line (elapsed time and ETA move on).
constexpr auto kRedrawEvery = std::chrono::seconds(1);

int terminal_columns(std::FILE* out) {
  winsize ws{};
  if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 100;
}

}  // namespace

std::string format_duration(double seconds) {
  long s = seconds < 0 ? 0 : static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

ProgressDisplay::ProgressDisplay(Mode mode, uint64_t total_jobs, uint64_t pruned, std::FILE* out)
    : mode_(mode), total_(total_jobs), pruned_(pruned), out_(out) {
  if (mode_ == Mode::kLive) {
    g_live = this;
    log::set_console_hook(&ProgressDisplay::console_hook);
  }
}

ProgressDisplay::~ProgressDisplay() {
  close();
}

ProgressDisplay::Mode ProgressDisplay::mode_for_stdout(bool quiet) {
  if (quiet) return Mode::kQuiet;
  const char* term = std::getenv("TERM");
  if (isatty(STDOUT_FILENO) && !(term && std::strcmp(term, "dumb") == 0)) return Mode::kLive;
  return Mode::kLines;
}

void ProgressDisplay::console_hook(bool before) {
  if (!g_live || g_live->closed_) return;
  if (before)
    g_live->clear_line();
  else
    g_live->draw(true);
}

void ProgressDisplay::submitted(const std::string& label) {
  submitted_.insert(label);
  draw(true);
}

void ProgressDisplay::running(const std::string& label) {
  running_.insert(label);
  draw(true);
}

void ProgressDisplay::finished(const RunRecord& record) {
  finished_.push_back(record);
  if (!record.passed) ++failed_;
  // The engine names runs by their folder, which is the run's label.
  submitted_.erase(run_label(record));
  running_.erase(run_label(record));
  if (mode_ == Mode::kLines) {
    std::fprintf(out_, "progress: %s\n", status_text(Clock::now()).c_str());
    std::fflush(out_);
  }
  draw(true);
}

void ProgressDisplay::tick() {
  draw(false);
}

std::string ProgressDisplay::status_text(Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const uint64_t done = finished_.size();
  const uint64_t running = running_.size();
  const uint64_t in_flight = submitted_.size();
  const uint64_t total = std::max<uint64_t>(total_, done + in_flight);
  const uint64_t queued = total - done - running;
  std::string s = "done " + std::to_string(done) + "/" + std::to_string(total) + " | running " +
                  std::to_string(running) + " | queued " + std::to_string(queued) + " | pruned " +
                  std::to_string(pruned_) + " | failed " + std::to_string(failed_) + " | elapsed " +
                  format_duration(elapsed);
  // Finished jobs so far tell how fast the rest will go (jobs in parallel included).
  if (done > 0 && done < total)
    s += " | ETA " +
         format_duration(elapsed / static_cast<double>(done) * static_cast<double>(total - done));
  auto best = best_per_case(finished_);
  if (!best.empty()) {
    // The best of the case that finished last (the one being worked on).
    auto it = best.find(finished_.back().case_id);
    if (it == best.end()) it = best.begin();
    const RunRecord& b = finished_[it->second];
    s += " | best " + run_label(b);
    // The workload's first results-table column says what the run is best at.
    const Workload* w = find_workload(b.workload);
    std::vector<ResultColumn> columns = w ? w->info().result_columns : std::vector<ResultColumn>{};
    if (!columns.empty())
      if (auto m = b.metrics.find(columns.front().metric); m != b.metrics.end())
        s += " " + columns.front().header + " " + svg::format_number(m->second);
  }
  return s;
}

void ProgressDisplay::clear_line() {
  if (mode_ != Mode::kLive || !line_shown_) return;
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
  line_shown_ = false;
}

void ProgressDisplay::draw(bool force) {
  if (mode_ != Mode::kLive || closed_) return;
  auto now = Clock::now();
  if (!force && now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  std::string text = status_text(now);
  const size_t width = static_cast<size_t>(std::max(20, terminal_columns(out_) - 1));
  if (text.size() > width) text.resize(width);  // one line: never wrap
  std::fputs(("\r\033[K" + text).c_str(), out_);
  std::fflush(out_);
  line_shown_ = true;
}

void ProgressDisplay::close() {
  if (closed_) return;
  clear_line();
  closed_ = true;
  if (g_live == this) {
    log::set_console_hook(nullptr);
    g_live = nullptr;
  }
}

}  // namespace bp
