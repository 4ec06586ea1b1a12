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

#include "util/strings.h"
#include "workloads/megatron_bridge/metrics.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kPrefix = "ain_fp8_mx/0 ";

// Deterministic pseudo-random numbers so a regenerated log is identical.
struct Lcg {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  }
  uint32_t below(uint32_t n) { return next() % n; }
};

// One training step as the launcher log shows it with log_interval=1: the Step Time line (rank
// 0), the long iteration line (last rank), and the noise around them.
void append_step(std::string& out, int step, int total_steps, Lcg& rng) {
  char line[1024];
  const double step_s = 9.0 + rng.below(200) / 100.0;
  const double tflops = 600.0 + rng.below(1000) / 10.0;
  const int nccl_lines = 2 + static_cast<int>(rng.below(4));
  for (int i = 0; i < nccl_lines; ++i) {
    std::snprintf(line, sizeof line,
                  "%snode-%03u:%u:%u [%u] NCCL INFO Channel %02u/0 : %u[%u] -> %u[%u] [send] via "
                  "NET/IB/%u/GDRDMA\n",
                  kPrefix, rng.below(64), 10000 + rng.below(50000), 10000 + rng.below(50000),
                  rng.below(8), rng.below(32), rng.below(512), rng.below(8), rng.below(512),
                  rng.below(8), rng.below(8));
    out += line;
  }
  if (rng.below(3) == 0) {
    std::snprintf(line, sizeof line,
                  "%s[NeMo W 2025-12-22 15:%02d:%02d nemo_logging:405] /usr/local/lib/python3.12/"
                  "dist-packages/torch/autograd/graph.py:824: UserWarning: c10d::allreduce_: an "
                  "autograd kernel was not registered to the Autograd key(s) but we are trying to "
                  "backprop through it.\n",
                  kPrefix, step % 60, (step * 7) % 60);
    out += line;
  }
  if (step % 10 == 0) {
    // Near miss: contains "step time" (lower case), so the parser checks it and rejects it.
    std::snprintf(line, sizeof line,
                  "%s[NeMo I 2025-12-22 15:18:33 straggler:112] rank %u step time budget: "
                  "%.2f s, within limits\n",
                  kPrefix, rng.below(512), step_s * 1.5);
    out += line;
  }
  std::snprintf(line, sizeof line, "%sStep Time : %.2fs GPU utilization: %.1fMODEL_TFLOP/s/GPU\n",
                kPrefix, step_s, tflops);
  out += line;
  std::snprintf(line, sizeof line,
                "%s [2025-12-22 15:%02d:%02d] iteration %8d/%8d | consumed samples: %12d | "
                "elapsed time per iteration (ms): %.1f | throughput per GPU (TFLOP/s/GPU): %.1f | "
                "learning rate: 3.000000E-05 | global batch size:   512 | lm loss: %.6E | "
                "load_balancing_loss: 1.000000E+00 | loss scale: 1.0 | grad norm: %.3f | number "
                "of skipped iterations:   0 | number of nan iterations:   0 |\n",
                kPrefix, step % 60, (step * 7) % 60, step, total_steps, step * 512, step_s * 1000.0,
                tflops, 8.0 + rng.below(1000) / 1000.0, rng.below(1000) / 10000.0);
  out += line;
  if (step == 1) {
    std::snprintf(line, sizeof line,
                  "%s[Rank 0] (after 1 iterations) memory (GB) | mem-allocated-gigabytes: 45.2 | "
                  "mem-max-allocated-gigabytes: 61.7 | mem-reserved-gigabytes: 70.1\n",
                  kPrefix);
    out += line;
  }
  std::snprintf(line, sizeof line,
                "%s[2025-12-22 15:18:33.%03u] [INFO] [timers] forward-backward: %.1f | optimizer: "
                "%.1f | grads-all-reduce: %.1f\n",
                kPrefix, rng.below(1000), step_s * 990.0, rng.below(900) / 10.0,
                rng.below(300) / 10.0);
  out += line;
}

// Writes a log of at least `bytes` bytes (whole steps) to `path`, via a temporary name so an
// interrupted run never leaves a truncated file that a later run would reuse.
bool generate_log(const fs::path& path, uint64_t bytes) {
  fs::path tmp = path;
  tmp += ".part";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return false;
  const int total_steps =
      static_cast<int>(bytes / 1070) + 1;  // about 1070 bytes per step; only printed
  Lcg rng;
  std::string block;
  uint64_t written = 0;
  for (int step = 1; written < bytes; ++step) {
    append_step(block, step, total_steps, rng);
    if (block.size() >= (1u << 20) || written + block.size() >= bytes) {
      if (std::fwrite(block.data(), 1, block.size(), f) != block.size()) {
        std::fclose(f);
        return false;
      }
      written += block.size();
      block.clear();
    }
  }
  if (std::fclose(f) != 0) return false;
  fs::rename(tmp, path);
  return true;
}

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
  const fs::path log = dir / ("benchpilot_parse_bench_" + std::to_string(size_mb) + "mb.log");
  std::error_code ec;
  if (fs::is_regular_file(log, ec) && fs::file_size(log, ec) >= want) {
    std::printf("reusing %s\n", log.c_str());
  } else {
    std::printf("generating %s ...\n", log.c_str());
    std::fflush(stdout);
    if (!generate_log(log, want)) {
      std::fprintf(stderr, "error: cannot write %s\n", log.c_str());
      return 1;
    }
  }
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
