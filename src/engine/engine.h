// The scenario engine: turns a scenario into run directories and jobs.
//
// It owns the order of things (dependencies, iterations, sweeps, in-flight limits, Ctrl-C);
// the workload generates each run's files and the executor talks to the scheduler. A dry-run
// is a run with an executor that submits nothing (core/dry_run_executor.h): the engine does not
// know.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/calibration.h"
#include "core/run_record.h"
#include "core/scenario.h"
#include "core/system.h"
#include "util/error.h"

namespace bp {

class Executor;
class Campaign;

// Told what happens to jobs as it happens (the live progress line). Called from the engine's
// thread; tick() comes many times a second while the engine waits for the scheduler.
class ProgressListener {
 public:
  virtual ~ProgressListener() = default;
  // `label` is the run's folder relative to the results root ("case/0/7").
  virtual void submitted(const std::string& label) { (void)label; }
  virtual void running(const std::string& label) { (void)label; }
  virtual void finished(const RunRecord& record) { (void)record; }
  virtual void tick() {}
};

struct EngineOptions {
  // <output_path>/<scenario>_<timestamp>/ is created inside this folder.
  std::filesystem::path output_path;
  // Overrides the results folder name's timestamp (tests); empty = now.
  std::string timestamp;
  // Default most sweep points in flight at once (agent_config.max_in_flight wins).
  int max_in_flight = 8;
  // Receives job events; may be null.
  ProgressListener* progress = nullptr;
  // Journals every point (<results>/journal.bpj) so the campaign can be resumed; off when
  // nothing is submitted (dry-run), since there would be nothing to resume.
  bool journal = true;
  // A case whose workload the system's scheduler cannot run is an error before anything is
  // written; when set only a warning, and its files are generated anyway (dry-run).
  bool allow_unsupported_workloads = false;
  // Set: continue the campaign of this results folder instead of starting a new folder.
  std::filesystem::path resume_root;
  // The command-line inputs, recorded so `benchpilot resume DIR` can load them again.
  std::map<std::string, std::string> campaign_inputs;
  // Writes each point's prediction into its run folder before it is submitted (estimate.toml,
  // core/estimate.h), for workloads that estimate; off when nothing is submitted (dry-run).
  bool freeze_estimates = true;
  // Finished runs whose calibration of the step time the frozen predictions record (from the
  // results store); empty: none.
  std::vector<Observation> calibration_runs;
};

// Exit code of a run that stopped because the scheduler stayed unreachable (EX_TEMPFAIL):
// try again later with `benchpilot resume`.
constexpr int kExitSchedulerUnreachable = 75;

struct EngineResult {
  int exit_code = 0;
  std::filesystem::path results_root;
  std::vector<RunRecord> records;
  bool interrupted = false;
  bool detached = false;  // stopped by SIGHUP: jobs left running, resumable
  // Why the run stopped with its jobs left running when the scheduler stayed unreachable
  // (then detached is true and exit_code is kExitSchedulerUnreachable).
  std::string lost_scheduler;
  // The journaled campaign (EngineOptions::journal), still locked; the caller records its end.
  std::shared_ptr<Campaign> campaign;
};

// Runs every case of the scenario through `executor`. The caller has run preflight()
// (engine/preflight.h) before installing anything; what the engine needs (check_engine_can_run:
// schedulers, sweeps with dependencies) and node specs it checks before the first file is
// written. Case `nodes` are resolved by the system's scheduler (core/scheduler.h).
EngineResult run_scenario(const System& system, const Scenario& scenario,
                          const EngineOptions& options, Executor* executor);

// Asks the running engine to stop: cancels submitted jobs, writes reports, returns 130.
// Safe to call from a signal handler.
void request_engine_stop();
bool engine_stop_requested();
// Asks the running engine to stop but leave submitted jobs running (SIGHUP: a lost session);
// the journal says where the campaign stood, `benchpilot resume` continues it.
// Safe to call from a signal handler.
void request_engine_detach();
bool engine_detach_requested();
// Forgets a stop request (before a new run in the same process, e.g. in tests).
void clear_engine_stop();

// Writes <run_dir>/test-run.toml: the resolved test with secrets masked.
void write_test_run_toml(const TestRun& run, const std::filesystem::path& run_dir, int iteration,
                         int step, const std::string& command);

}  // namespace bp
