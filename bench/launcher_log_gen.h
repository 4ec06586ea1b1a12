// A Megatron-Bridge launcher log in the real format, of any size, for the benchmarks that read
// one (parse_bench, report_bench; see bench/README.md). Deterministic: a regenerated log is
// identical, and an existing one of the right size is reused.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace bench {

namespace fs = std::filesystem;

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
inline void append_step(std::string& out, int step, int total_steps, Lcg& rng) {
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
inline bool generate_log(const fs::path& path, uint64_t bytes) {
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

inline fs::path launcher_log_path(const fs::path& dir, uint64_t size_mb) {
  return dir / ("benchpilot_launcher_" + std::to_string(size_mb) + "mb.log");
}

// Generates the log unless one of at least `bytes` is there; false (and a message) on failure.
inline bool ensure_log(const fs::path& log, uint64_t bytes) {
  std::error_code ec;
  if (fs::is_regular_file(log, ec) && fs::file_size(log, ec) >= bytes) {
    std::printf("reusing %s\n", log.c_str());
    return true;
  }
  std::printf("generating %s ...\n", log.c_str());
  std::fflush(stdout);
  if (generate_log(log, bytes)) return true;
  std::fprintf(stderr, "error: cannot write %s\n", log.c_str());
  return false;
}

}  // namespace bench
