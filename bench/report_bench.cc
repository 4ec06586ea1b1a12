// `benchpilot generate-report` on a results folder holding one Megatron-Bridge run with a big
// launcher log, against `grep -c 'Step Time'` on the same log (see bench/README.md,
// "generate-report on a big log").
//
// Times the benchpilot next to this program (or --benchpilot) and reports its peak RSS (the
// child's getrusage). With --reference BIN it also runs another build (e.g. main's) once on the
// same folder and checks that summary.json, training_report.json and report.txt come out
// byte-identical.
//
//   report_bench [--size-mb N] [--dir DIR] [--benchpilot BIN] [--reference BIN] [--conf DIR]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "launcher_log_gen.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct RunFigures {
  int exit_code = -1;
  double seconds = 0;
  double cpu_seconds = 0;  // user + system
  double max_rss_mb = 0;
};

// Runs argv with stdout and stderr to /dev/null; the child's wall time and peak RSS.
RunFigures run_quiet(const std::vector<std::string>& argv) {
  RunFigures f;
  std::fflush(stdout);  // or the child's freopen would print the parent's buffered lines again
  auto t0 = Clock::now();
  pid_t pid = fork();
  if (pid < 0) return f;
  if (pid == 0) {
    std::FILE* null = std::freopen("/dev/null", "w", stdout);
    (void)null;
    null = std::freopen("/dev/null", "w", stderr);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  if (wait4(pid, &status, 0, &ru) < 0) return f;
  f.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  f.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  f.max_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;  // kB on Linux
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  f.cpu_seconds = secs(ru.ru_utime) + secs(ru.ru_stime);
  return f;
}

// Best of three after one warm-up (the page cache is hot); RSS is the largest seen.
RunFigures best_of_three(const std::vector<std::string>& argv) {
  RunFigures best = run_quiet(argv);
  if (best.exit_code != 0) return best;
  best.seconds = best.cpu_seconds = 1e300;
  for (int i = 0; i < 3; ++i) {
    RunFigures f = run_quiet(argv);
    if (f.exit_code != 0) return f;
    best.seconds = std::min(best.seconds, f.seconds);
    best.cpu_seconds = std::min(best.cpu_seconds, f.cpu_seconds);
    best.max_rss_mb = std::max(best.max_rss_mb, f.max_rss_mb);
  }
  return best;
}

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The results folder: one passed run of the llama case, its launcher.log a link to the log.
fs::path make_results(const fs::path& dir, const fs::path& log) {
  const fs::path root = dir / "results";
  const fs::path run = root / "llama" / "0";
  fs::create_directories(run);
  write_text(run / "test-run.toml",
             "name = \"llama\"\nnnodes = 1\ncurrent_iteration = 0\nstep = 0\n"
             "[test_definition]\ntest_template_name = \"MegatronBridge\"\n"
             "[test_definition.cmd_args]\nnum_gpus = 8\n");
  write_text(run / "slurm-job.toml",
             "state = \"COMPLETED\"\njob_id = 11\nelapsed_time_sec = 1800\n");
  std::error_code ec;
  fs::remove(run / "launcher.log", ec);
  fs::create_hard_link(log, run / "launcher.log", ec);
  if (ec) fs::create_symlink(fs::absolute(log), run / "launcher.log");
  return root;
}

std::vector<std::string> report_command(const std::string& bin, const fs::path& conf,
                                        const fs::path& root) {
  return {bin,
          "generate-report",
          "--system-config",
          (conf / "system" / "example_slurm_cluster.toml").string(),
          "--tests-dir",
          (conf / "test" / "h100").string(),
          "--test-scenario",
          (conf / "test_scenario" / "megatron_bridge_llama3_8b_sweep.toml").string(),
          "--result-dir",
          root.string()};
}

const char* const kCompared[] = {"summary.json", "llama/0/training_report.json",
                                 "llama/0/report.txt"};

// conf/ of the source tree: the first parent of this program's folder that has it.
fs::path find_conf(const fs::path& self) {
  for (fs::path p = fs::absolute(self).parent_path(); !p.empty(); p = p.parent_path()) {
    if (fs::exists(p / "conf" / "system" / "example_slurm_cluster.toml")) return p / "conf";
    if (p == p.parent_path()) break;
  }
  return {};
}

int usage() {
  std::fprintf(stderr,
               "usage: report_bench [--size-mb N] [--dir DIR] [--benchpilot BIN] "
               "[--reference BIN] [--conf DIR]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t size_mb = 1024;
  fs::path dir = fs::temp_directory_path();
  std::string bin = (fs::absolute(argv[0]).parent_path() / "benchpilot").string();
  std::string reference;
  fs::path conf = find_conf(argv[0]);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    if (arg == "--size-mb") {
      char* end = nullptr;
      size_mb = std::strtoull(argv[++i], &end, 10);
      if (*end != 0 || size_mb == 0) return usage();
    } else if (arg == "--dir") {
      dir = argv[++i];
    } else if (arg == "--benchpilot") {
      bin = argv[++i];
    } else if (arg == "--reference") {
      reference = argv[++i];
    } else if (arg == "--conf") {
      conf = argv[++i];
    } else {
      return usage();
    }
  }
  if (conf.empty()) {
    std::fprintf(stderr, "error: conf/ not found; pass --conf\n");
    return 2;
  }
  fs::create_directories(dir);
  const fs::path log = bench::launcher_log_path(dir, size_mb);
  if (!bench::ensure_log(log, size_mb << 20)) return 1;
  const fs::path work = dir / ("benchpilot_report_bench_" + std::to_string(size_mb) + "mb");
  const fs::path root = make_results(work, log);

  // The reference's files are kept on disk, not in this program: a forked child's peak RSS
  // counts the parent's memory until it execs.
  const fs::path kept = work / "reference";
  if (!reference.empty()) {
    RunFigures ref = run_quiet(report_command(reference, conf, root));
    std::printf("reference %s: exit %d, %.2f s, max RSS %.0f MB\n", reference.c_str(),
                ref.exit_code, ref.seconds, ref.max_rss_mb);
    for (size_t i = 0; i < std::size(kCompared); ++i) {
      fs::create_directories(kept);
      fs::copy_file(root / kCompared[i], kept / std::to_string(i),
                    fs::copy_options::overwrite_existing);
    }
  }
  const RunFigures ours = best_of_three(report_command(bin, conf, root));
  if (ours.exit_code != 0) {
    std::fprintf(stderr, "error: %s generate-report exited %d\n", bin.c_str(), ours.exit_code);
    return 1;
  }
  // grep's output goes to a file: GNU grep stops at the first match when it writes to /dev/null.
  const fs::path count_file = work / "grep-count.txt";
  const RunFigures grep = best_of_three(
      {"/bin/sh", "-c", "grep -c 'Step Time' \"$0\" > \"$1\"", log.string(), count_file.string()});
  const double mb = static_cast<double>(fs::file_size(log)) / 1e6;
  std::printf("log: %s (%.1f MB)\n", log.c_str(), mb);
  std::printf("generate-report: %6.3f s wall, %6.3f s CPU (best of 3), max RSS %.0f MB\n",
              ours.seconds, ours.cpu_seconds, ours.max_rss_mb);
  std::string count = read_text(count_file);
  if (!count.empty() && count.back() == '\n') count.pop_back();
  std::printf("grep -c:         %6.3f s wall, %6.3f s CPU (best of 3), %s lines\n", grep.seconds,
              grep.cpu_seconds, count.c_str());
  std::printf("generate-report / grep: %.2f wall, %.2f CPU (goal: at most 3)\n",
              ours.seconds / grep.seconds, ours.cpu_seconds / grep.cpu_seconds);
  int rc = 0;
  // Every step line made it into the report (the generated log has one iteration line each).
  size_t steps = 0;
  const std::string report = read_text(root / kCompared[1]);
  for (size_t at = report.find("\"iteration\": "); at != std::string::npos;
       at = report.find("\"iteration\": ", at + 1))
    ++steps;
  std::printf("training_report.json: %zu steps\n", steps);
  if (std::to_string(steps) != count) {
    std::fprintf(stderr, "error: %zu steps in training_report.json, grep counted %s\n", steps,
                 count.c_str());
    rc = 1;
  }
  for (size_t i = 0; !reference.empty() && i < std::size(kCompared); ++i) {
    const bool same = read_text(root / kCompared[i]) == read_text(kept / std::to_string(i));
    std::printf("%s: %s\n", kCompared[i], same ? "byte-identical to the reference" : "DIFFERS");
    if (!same) rc = 1;
  }
  return rc;
}
