// How much load and CPU benchpilot's Slurm executor costs per job, against a real cluster.
//
// usage: slurm_overhead [JOBS...]       (default: 20 200)
// Uses the cluster of $SLURM_CONF, or starts a throw-away one with scripts/local-slurm (needs
// root) and stops it afterwards. For each job count it submits that many short jobs
// (`sleep 0.1`) through SlurmExecutor, polls like the engine until all ended, writes each
// job's slurm-job.toml, and prints: scheduler commands (total, per poll round, by command),
// benchpilot's own CPU time per job (getrusage(RUSAGE_SELF): children such as sbatch are not
// counted) and the wall time from the first submit to the last result.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench_clock.h"
#include "systems/slurm/slurm_executor.h"
#include "util/log.h"
#include "util/subprocess.h"

namespace fs = std::filesystem;
using bench::Clock;
using bench::cpu_seconds;

namespace {

struct Cluster {
  fs::path dir;  // set when we started it
  ~Cluster() {
    if (dir.empty()) return;
    bp::run_command({"bash", std::string(BENCHPILOT_SOURCE_DIR) + "/scripts/local-slurm/stop.sh",
                     dir.string(), "--purge"},
                    {std::chrono::seconds(120), {}, {}});
  }
};

bool ensure_cluster(Cluster& cluster) {
  if (const char* conf = std::getenv("SLURM_CONF"); conf && *conf) {
    std::printf("cluster: %s\n", conf);
    return true;
  }
  cluster.dir = "/tmp/bpbench-" + std::to_string(getpid());
  std::string port = std::to_string(24000 + (getpid() % 400) * 20);
  std::printf("cluster: starting one in %s (port base %s)\n", cluster.dir.c_str(), port.c_str());
  bp::CommandResult r =
      bp::run_command({"bash", std::string(BENCHPILOT_SOURCE_DIR) + "/scripts/local-slurm/start.sh",
                       cluster.dir.string(), "--accounting", "--port-base", port},
                      {std::chrono::seconds(300), {}, {}});
  if (!r.ok()) {
    std::fprintf(stderr, "cannot start a local Slurm cluster:\n%s%s\n", r.out.c_str(),
                 r.err.c_str());
    return false;
  }
  setenv("SLURM_CONF", (cluster.dir / "etc" / "slurm.conf").c_str(), 1);
  return true;
}

int run(int n_jobs) {
  bp::System system;
  system.name = "bench";
  system.scheduler = "slurm";
  system.mpi = "none";
  system.monitor_interval = 5;
  bp::slurm_settings(system).status_retry_pause_seconds = 1;
  bp::SlurmExecutor ex(system);
  fs::path root = fs::path("/tmp") /
                  ("bp_slurm_bench_" + std::to_string(getpid()) + "_" + std::to_string(n_jobs));
  fs::remove_all(root);

  std::vector<bp::Job> jobs;
  jobs.reserve(n_jobs);
  double cpu0 = cpu_seconds();
  auto t0 = Clock::now();
  for (int i = 0; i < n_jobs; ++i) {
    bp::JobRequest req;
    req.name = "bench_" + std::to_string(i);
    req.run_dir = root / std::to_string(i);
    fs::create_directories(req.run_dir);
    req.spec.command = "sleep 0.1";
    jobs.push_back(ex.submit(req));
  }
  double cpu_submit = cpu_seconds() - cpu0;
  auto submitted = Clock::now();

  double cpu_poll = 0, cpu_meta = 0;
  int quiet = 0, failed = 0;
  auto last_result = submitted;
  while (true) {
    std::vector<bp::Job*> active;
    for (bp::Job& j : jobs)
      if (!bp::is_terminal(j.state)) active.push_back(&j);
    if (active.empty()) break;
    std::vector<bp::JobState> before;
    for (bp::Job* j : active) before.push_back(j->state);
    double c = cpu_seconds();
    ex.poll(active);
    cpu_poll += cpu_seconds() - c;
    bool changed = false;
    for (size_t i = 0; i < active.size(); ++i) {
      if (active[i]->state == before[i]) continue;
      changed = true;
      if (!bp::is_terminal(active[i]->state)) continue;
      last_result = Clock::now();
      failed += active[i]->state != bp::JobState::kCompleted;
      c = cpu_seconds();
      ex.write_job_metadata(*active[i]);
      cpu_meta += cpu_seconds() - c;
    }
    quiet = changed ? 0 : quiet + 1;
    if (Clock::now() - t0 > std::chrono::minutes(10)) {
      std::fprintf(stderr, "giving up after 10 minutes\n");
      return 1;
    }
    std::this_thread::sleep_for(ex.next_poll_interval(quiet));
  }
  const bp::SchedulerCallStats& s = ex.call_stats();
  auto ms = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 1000.0;
  };
  double cpu_total = cpu_submit + cpu_poll + cpu_meta;
  std::printf("\n== %d jobs (sleep 0.1), %d not COMPLETED\n", n_jobs, failed);
  std::printf("scheduler commands: %lld total, %lld retries\n", static_cast<long long>(s.total),
              static_cast<long long>(s.retries));
  for (const auto& [cmd, count] : s.by_command)
    std::printf("  %-9s %lld\n", cmd.c_str(), static_cast<long long>(count));
  std::printf("poll rounds: %lld, calls per round: %.2f average, %lld max\n",
              static_cast<long long>(s.poll_rounds), s.calls_per_round(),
              static_cast<long long>(s.max_calls_per_round));
  std::printf("benchpilot CPU per job: %.3f ms (submit %.3f, poll %.3f, metadata %.3f)\n",
              1000 * cpu_total / n_jobs, 1000 * cpu_submit / n_jobs, 1000 * cpu_poll / n_jobs,
              1000 * cpu_meta / n_jobs);
  std::printf("wall: %.2f s first submit to last result (submitting took %.2f s)\n",
              ms(last_result - t0), ms(submitted - t0));
  fs::remove_all(root);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  bp::log::init(bp::log::Level::kWarning);
  std::vector<int> counts;
  for (int i = 1; i < argc; ++i) counts.push_back(std::atoi(argv[i]));
  if (counts.empty()) counts = {20, 200};
  Cluster cluster;
  if (!ensure_cluster(cluster)) return 2;
  int rc = 0;
  for (int n : counts) rc |= run(n);
  return rc;
}
