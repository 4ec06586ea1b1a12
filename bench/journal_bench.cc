// What the campaign journal costs, and how fast a large campaign resumes.
//
// usage: journal_bench [--points N] [--resume-points N] [--in-flight N] [--dir DIR]
//
// 1. Journal cost per point: N points (default 2000) each go through the four records a real
//    point writes (planned, submitting, submitted with job id and wrapper pid, finished with a
//    realistic RunRecord), as the engine writes them (fdatasync before the submission). Prints
//    CPU time per point
//    (getrusage(RUSAGE_SELF): user + system), wall time per point and fsyncs per point.
// 2. Resume of a large campaign (default 10,000 points, 1,000 of them still in flight): reading
//    the journal, reopening the campaign (lock, fingerprints), re-attaching every in-flight job
//    and one monitoring round (one squeue + one sacct for all of them). The scheduler is the
//    real one when $SLURM_CONF names a cluster, else a scripted stand-in answering instantly
//    (then the figure excludes scheduler latency; slurm_overhead measures that).
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "bench_clock.h"
#include "campaign/campaign.h"
#include "core/executor.h"
#include "systems/slurm/slurm_executor.h"
#include "testkit/fake_command_runner.h"
#include "util/log.h"

namespace fs = std::filesystem;
using bench::Clock;
using bench::cpu_seconds;
using bench::since;
using bench::user_seconds;
using bp::testkit::FakeCommandRunner;

namespace {

bp::RunRecord make_record(const fs::path& root, int step) {
  bp::RunRecord r;
  r.case_id = "llama3_8b_sweep";
  r.step = step;
  r.run_dir = root / "llama3_8b_sweep" / "0" / std::to_string(step);
  r.params = {{"cmd_args.tp", bp::Value::integer(1 << (step % 3))},
              {"cmd_args.pp", bp::Value::integer(1 + step % 2)},
              {"cmd_args.cp", bp::Value::integer(1 + step % 2)},
              {"cmd_args.mb", bp::Value::integer(1)}};
  r.job_id = std::to_string(100000 + step);
  r.state = "COMPLETED";
  r.passed = true;
  r.metrics = {{"default", 1.2345 + step * 1e-4},
               {"step-time", 1.2345 + step * 1e-4},
               {"tflops-per-gpu", 412.25}};
  return r;
}

bp::Scenario scenario_with_one_case() {
  bp::Scenario s;
  s.name = "bench";
  bp::TestRun run;
  run.id = "llama3_8b_sweep";
  run.test.test_template_name = "MegatronBridge";
  s.runs.push_back(run);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  int points = 2000, resume_points = 10000, in_flight = 1000;
  fs::path dir = fs::temp_directory_path();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--points")) points = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--resume-points")) resume_points = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--in-flight")) in_flight = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  bp::log::init(bp::log::Level::kWarning, "");
  const fs::path root = dir / ("journal_bench_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const bp::Scenario scenario = scenario_with_one_case();

  // 1. Cost per point.
  {
    auto campaign = bp::Campaign::create(root, scenario, {{"test_scenario", "/x.toml"}});
    bp::JournalWriter& j = campaign->journal();
    const uint64_t fsyncs_before = j.fsyncs();
    const double cpu0 = cpu_seconds(), user0 = user_seconds();
    const auto t0 = Clock::now();
    for (int p = 1; p <= points; ++p) {
      bp::PointKey k{"llama3_8b_sweep", 0, p};
      j.planned(k);
      j.submitting(k, campaign->comment(k), true);
      j.submitted(k, std::to_string(100000 + p), 4242, 123456);
      j.finished(k, p, make_record(root, p), root);
    }
    const double cpu = cpu_seconds() - cpu0, wall = since(t0), user = user_seconds() - user0;
    std::printf("journal: %d points, 4 records each, fdatasync before each submission (%s)\n",
                points, dir.c_str());
    std::printf(
        "  CPU per point:    %.3f ms (user %.3f + system %.3f, the kernel's share of the "
        "flushes)\n",
        cpu * 1e3 / points, user * 1e3 / points, (cpu - user) * 1e3 / points);
    std::printf("  wall per point:   %.3f ms (mostly waiting for the disk)\n", wall * 1e3 / points);
    std::printf("  fsyncs per point: %.1f (%llu in all)\n",
                double(j.fsyncs() - fsyncs_before) / points,
                static_cast<unsigned long long>(j.fsyncs() - fsyncs_before));
    std::printf(
        "  fsyncs at start:  %llu (the journal's and the results folder's directory "
        "entries, the header)\n",
        static_cast<unsigned long long>(fsyncs_before));
    std::printf("  journal size:     %.0f bytes per point\n",
                double(fs::file_size(root / bp::kJournalFile)) / points);
  }
  fs::remove_all(root);
  fs::create_directories(root);

  // 2. Resume of a large campaign.
  {
    {
      auto campaign = bp::Campaign::create(root, scenario, {{"test_scenario", "/x.toml"}});
      bp::JournalWriter& j = campaign->journal();
      for (int p = 1; p <= resume_points; ++p) {
        bp::PointKey k{"llama3_8b_sweep", 0, p};
        j.planned(k);
        j.submitting(k, campaign->comment(k), false);
        j.submitted(k, std::to_string(100000 + p), 0, 0);
        if (p <= resume_points - in_flight) j.finished(k, p, make_record(root, p), root);
      }
    }
    const bool real = std::getenv("SLURM_CONF") != nullptr;
    std::shared_ptr<bp::CommandRunner> runner;
    if (!real) {
      runner = std::make_shared<FakeCommandRunner>([](const std::vector<std::string>& argv) {
        std::string out;
        if (argv[0] == "squeue") {  // every listed job still running
          std::string ids = argv[3];
          size_t pos = 0;
          while (pos < ids.size()) {
            size_t comma = ids.find(',', pos);
            if (comma == std::string::npos) comma = ids.size();
            out += ids.substr(pos, comma - pos) + "|RUNNING|None\n";
            pos = comma + 1;
          }
        }
        return FakeCommandRunner::ok(out);
      });
    }
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    auto campaign = bp::Campaign::reopen(root, scenario);
    const double read_s = since(t0);
    bp::System system;
    system.name = "bench";
    system.scheduler = "slurm";
    bp::SlurmExecutor executor(system, {}, runner);
    std::vector<bp::Job> jobs;
    jobs.reserve(resume_points);
    size_t finished = 0;
    for (int p = 1; p <= resume_points; ++p) {
      const bp::PointState* prev = campaign->previous({"llama3_8b_sweep", 0, p});
      if (!prev) continue;
      if (prev->stage == bp::PointStage::kFinished) {
        ++finished;
        continue;
      }
      bp::JobRequest req;
      req.name = "llama3_8b_sweep";
      req.run_dir = root / "llama3_8b_sweep" / "0" / std::to_string(p);
      jobs.push_back(executor.attach(req, false, prev->job_id, 0, 0));
    }
    std::vector<bp::Job*> active;
    for (bp::Job& j : jobs) active.push_back(&j);
    executor.poll(active);
    const double total = since(t0), cpu = cpu_seconds() - cpu0;
    std::printf("resume: %d-point campaign, %zu finished, %zu re-attached (%s scheduler)\n",
                resume_points, finished, jobs.size(), real ? "real" : "scripted");
    std::printf("  journal read + reopen: %.3f s (%.1f MB)\n", read_s,
                fs::file_size(root / bp::kJournalFile) / 1e6);
    std::printf("  + attach + one poll round: %.3f s wall, %.3f s CPU; scheduler calls: %llu\n",
                total, cpu, static_cast<unsigned long long>(executor.call_stats().total));
  }
  fs::remove_all(root);
  return 0;
}
