// The results store at scale: filling it with a million runs, its size per run, and the
// filtered queries `benchpilot history` makes.
//
// usage: store_bench [--runs N] [--dir DIR] [--keep]
//
// Fills a new SQLite store (default 1,000,000 runs, in transactions of 10,000) with runs shaped
// like a Megatron-Bridge sweep's: 4 models x 3 systems, 16 parameters each (tp, pp, cp, mb, gb
// vary), 10 step-time and 10 TFLOP/s samples, end times spread over a year. Then times, as the
// best of 5 after a warm-up (page cache hot, store opened once as `history` does):
//   - model + system + parameter filter, newest 50 (history --model --system --param);
//   - model + time window, newest 50 (history --model --since --until);
//   - the same parameter filter without model/system, newest 50;
//   - opening the store (schema check) + the first query, cold in this process.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "bench_clock.h"
#include "store/store.h"

namespace fs = std::filesystem;
using bench::Clock;
using bench::since;

namespace {

const char* kModels[] = {"llama3_8b", "llama3_70b", "qwen3_30b_a3b", "deepseek_v3"};
const char* kSystems[] = {"eos", "cw-dfw", "local-slurm"};

bp::StoredRun make_run(int64_t i) {
  bp::StoredRun r;
  const int64_t campaign = i / 50;
  r.campaign = "sweep_" + std::to_string(campaign);
  r.results_dir = "/results/sweep_" + std::to_string(campaign);
  r.run_dir = r.results_dir + "/case/0/" + std::to_string(i % 50 + 1);
  r.scenario = "sweep";
  r.case_id = "case";
  r.step = static_cast<int>(i % 50 + 1);
  r.workload = "MegatronBridge";
  r.model = kModels[campaign % 4];
  r.system = kSystems[(campaign / 4) % 3];
  r.gpu_type = "h100";
  r.num_gpus = 8 << (campaign % 3);
  r.mbridge_commit = "v0.3.0";
  r.container_image = "nvcr.io#nvidia/nemo:26.02.00";
  r.benchpilot_version = "0.1.0";
  // Spread over 2026: one campaign per ~10 minutes.
  const int64_t minutes = campaign * 10 % (365 * 24 * 60);
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026-%02d-%02dT%02d:%02d:00", int(minutes / 43200 % 12 + 1),
                int(minutes / 1440 % 28 + 1), int(minutes / 60 % 24), int(minutes % 60));
  r.start_time = r.end_time = buf;
  r.job_id = std::to_string(1000000 + i);
  r.state = "COMPLETED";
  r.verdict = i % 17 ? "PASSED" : "FAILED";
  const int tp = 1 << (i % 4), pp = 1 + i / 4 % 2, cp = 1 + i / 8 % 2, mb = 1 + i / 16 % 2;
  r.params = {{"cmd_args.tp", std::to_string(tp)},
              {"cmd_args.pp", std::to_string(pp)},
              {"cmd_args.cp", std::to_string(cp)},
              {"cmd_args.mb", std::to_string(mb)},
              {"cmd_args.gb", "128"},
              {"cmd_args.gpu_type", "h100"},
              {"cmd_args.model_family_name", "llama"},
              {"cmd_args.model_recipe_name", r.model},
              {"cmd_args.num_gpus", std::to_string(r.num_gpus)},
              {"cmd_args.domain", "llm"},
              {"cmd_args.task", "pretrain"},
              {"cmd_args.compute_dtype", "bf16"},
              {"cmd_args.container_image", r.container_image},
              {"cmd_args.max_steps", "50"},
              {"extra_env_vars.NCCL_DEBUG", "INFO"},
              {"extra_env_vars.CUDA_DEVICE_MAX_CONNECTIONS", "1"}};
  const double st = 1.0 + 0.1 * tp + 0.05 * pp;
  r.metrics = {{"step-time", st}, {"tflops-per-gpu", 400 / st}};
  for (int k = 0; k < 10; ++k) {
    r.samples["step-time"].push_back(st * (1 + 0.001 * (k % 5)));
    r.samples["tflops-per-gpu"].push_back(400 / st * (1 - 0.001 * (k % 5)));
  }
  return r;
}

template <class F>
double best_of(int n, F f, size_t* rows) {
  f();  // warm-up
  double best = 1e9;
  for (int k = 0; k < n; ++k) {
    auto t = Clock::now();
    *rows = f();
    best = std::min(best, since(t));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t runs = 1000000;
  fs::path dir = fs::temp_directory_path();
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc)
      dir = argv[++i];
    else if (!std::strcmp(argv[i], "--keep"))
      keep = true;
  }
  const fs::path db = dir / ("store_bench_" + std::to_string(runs) + ".db");
  if (!fs::exists(db)) {
    auto store = bp::open_sqlite_store(db);
    auto t = Clock::now();
    std::vector<bp::StoredRun> batch;
    for (int64_t i = 0; i < runs; ++i) {
      batch.push_back(make_run(i));
      if (batch.size() == 10000 || i + 1 == runs) {
        store->record(batch);
        batch.clear();
      }
    }
    const double s = since(t);
    std::printf("filled %lld runs in %.1f s (%.0f runs/s)\n", static_cast<long long>(runs), s,
                runs / s);
  } else {
    std::printf("reusing %s\n", db.c_str());
  }
  uintmax_t bytes = fs::file_size(db);
  for (const char* ext : {"-wal", "-shm"})
    if (fs::exists(db.string() + ext)) bytes += fs::file_size(db.string() + ext);
  std::printf("store: %.1f MB, %.0f bytes per run\n", bytes / 1e6, double(bytes) / runs);

  auto t_open = Clock::now();
  auto store = bp::open_sqlite_store(db);
  bp::HistoryQuery q;
  q.model = "llama3_70b";
  q.system = "cw-dfw";
  q.params = {{"cmd_args.tp", "2"}};
  q.limit = 50;
  size_t rows = store->query(q).size();
  std::printf("open + first filtered query (cold in this process): %.1f ms, %zu rows\n",
              since(t_open) * 1e3, rows);

  double ms = best_of(
                  5, [&] { return store->query(q).size(); }, &rows) *
              1e3;
  std::printf(
      "history --model llama3_70b --system cw-dfw --param tp=2 (newest 50): %.1f ms, %zu "
      "rows\n",
      ms, rows);
  bp::HistoryQuery w;
  w.model = "qwen3_30b_a3b";
  w.since = "2026-03-01";
  w.until = "2026-04-01";
  w.limit = 50;
  ms = best_of(
           5, [&] { return store->query(w).size(); }, &rows) *
       1e3;
  std::printf(
      "history --model qwen3_30b_a3b --since 2026-03-01 --until 2026-04-01: %.1f ms, %zu "
      "rows\n",
      ms, rows);
  bp::HistoryQuery p;
  p.params = {{"cmd_args.tp", "8"}, {"cmd_args.cp", "2"}};
  p.limit = 50;
  ms = best_of(
           5, [&] { return store->query(p).size(); }, &rows) *
       1e3;
  std::printf("history --param tp=8 --param cp=2 (no model/system): %.1f ms, %zu rows\n", ms, rows);
  std::printf("count: %lld runs\n", static_cast<long long>(store->count()));
  store.reset();
  if (!keep)
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db.string() + ext);
  return 0;
}
