// Throughput of the Megatron-Bridge step-line parser against `grep -c 'Step Time'` on the same
// log (see bench/README.md, "Metric parser").
//
// Generates (or reuses) a launcher log of the requested size in the real format, then times a
// full scan that collects every (step time, TFLOP/s) pair, and grep counting the same lines.
// Both run once to warm the page cache, then three times; the best run counts.
//
//   parse_bench [--size-mb N] [--dir DIR]
#include <sys/wait.h>

#include <algorithm>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "launcher_log_gen.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/metrics.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using bench::generate_log;

// Seconds of the best of three runs, after one warm-up run.
double best_of_three(const std::function<void()>& run) {
  run();
  double best = 1e300;
  for (int i = 0; i < 3; ++i) {
    auto t0 = Clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

long grep_count(const fs::path& log) {
  std::string cmd = "grep -c 'Step Time' " + bp::shell_quote(log.string());
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[64] = {0};
  if (!std::fgets(buf, sizeof buf, p)) buf[0] = 0;
  int rc = pclose(p);
  if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) > 1) return -1;  // 1 = no lines matched
  return std::strtol(buf, nullptr, 10);
}

int usage() {
  std::fprintf(stderr, "usage: parse_bench [--size-mb N] [--dir DIR]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t size_mb = 1024;
  fs::path dir = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--size-mb" && i + 1 < argc) {
      char* end = nullptr;
      size_mb = std::strtoull(argv[++i], &end, 10);
      if (*end != 0 || size_mb == 0) return usage();
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      return usage();
    }
  }

  const uint64_t want = size_mb << 20;
  const fs::path log = bench::launcher_log_path(dir, size_mb);
  if (!bench::ensure_log(log, want)) return 1;
  const uint64_t bytes = fs::file_size(log);

  size_t parser_matches = 0;
  const double parser_s = best_of_three([&] {
    auto samples = bp::mbridge::read_all_steps(log);
    parser_matches = samples ? samples->size() : 0;
  });
  long grep_matches = -1;
  const double grep_s = best_of_three([&] { grep_matches = grep_count(log); });

  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("file: %s (%.1f MB)\n", log.c_str(), mb);
  std::printf("matches: parser %zu, grep -c 'Step Time' %ld\n", parser_matches, grep_matches);
  if (grep_matches < 0 || static_cast<size_t>(grep_matches) != parser_matches) {
    std::fprintf(stderr, "error: match counts differ (parser %zu, grep %ld)\n", parser_matches,
                 grep_matches);
    return 1;
  }
  std::printf("parser: %8.1f MB/s (best of 3: %.3f s)\n", mb / parser_s, parser_s);
  std::printf("grep:   %8.1f MB/s (best of 3: %.3f s)\n", mb / grep_s, grep_s);
  std::printf("parser time / grep time: %.2f\n", parser_s / grep_s);
  return 0;
}
