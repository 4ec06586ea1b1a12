// run and dry-run.
#include <csignal>
#include <iostream>
#include <optional>

#include "campaign/campaign.h"
#include "cli/commands.h"
#include "cli/limits.h"
#include "cli/load.h"
#include "cli/progress.h"
#include "core/dry_run_executor.h"
#include "core/executor.h"
#include "core/scheduler.h"
#include "core/workload.h"
#include "engine/engine.h"
#include "engine/install.h"
#include "engine/preflight.h"
#include "report/summary.h"
#include "store/calibration_runs.h"
#include "store/indexer.h"
#include "store/record_runs.h"
#include "sweep/plan.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {
namespace {

void on_signal(int) {
  request_engine_stop();
}

void on_hangup(int) {
  request_engine_detach();
}

std::string absolute_or_empty(const std::string& p) {
  return p.empty() ? p : std::filesystem::absolute(p).string();
}

// Where `run` records its runs: --store, else $BENCHPILOT_STORE, else the system's
// output_path/benchpilot.db.
std::filesystem::path run_store_path(const CommonOptions& opts, const System& system) {
  return named_store_path(opts.store).value_or(default_store_path(system.output_path));
}

// The store's runs that calibrate the predictions frozen at submission; none when the store
// cannot be read (a prediction is never a reason not to run).
std::vector<Observation> calibration_runs(const CommonOptions& opts, const System& system) {
  try {
    return calibration_observations(run_store_path(opts, system));
  } catch (const std::exception& e) {
    log::warn(std::string("results store: ") + e.what() + " (predictions are not calibrated)");
    return {};
  }
}

// How much the run will submit, for the progress line.
struct PlannedWork {
  uint64_t jobs = 0;
  uint64_t pruned = 0;
};

// Prints the same cost summary as `benchpilot plan`, before anything is spent; nullopt (logged)
// when the scenario is over the work limits and --allow-large was not given.
std::optional<PlannedWork> show_plan_within_limits(const CommonOptions& opts,
                                                   const LoadedConfig& c) {
  WorkLimits limits;
  if (!opts.allow_large) check_sweep_sizes(c.scenario, limits);
  std::vector<Plan> plans;
  for (const TestRun& run : c.scenario.runs) plans.push_back(make_plan(run, c.system));
  if (!opts.quiet) std::cout << format_plan(plans) << std::endl;  // flushed: the log follows
  std::vector<std::string> over = exceeded_limits(c.scenario, plans, limits);
  if (!over.empty() && !opts.allow_large) {
    log::error("refusing to start: " + join(over, "; ") + ". Nothing was written; pass " +
               kAllowLargeFlag + " to confirm");
    return std::nullopt;
  }
  PlannedWork work;
  for (const Plan& p : plans) {
    work.jobs += p.jobs;
    work.pruned += p.pruned * static_cast<uint64_t>(p.iterations);
  }
  return work;
}

// The engine's options for this command; nullopt (logged) when --resume finds no campaign.
std::optional<EngineOptions> engine_options(const CommonOptions& opts, const LoadedConfig& c,
                                            RunMode mode) {
  const bool dry_run = mode == RunMode::kDryRun;
  EngineOptions eo;
  eo.journal = !dry_run;  // nothing submitted, nothing to resume
  eo.allow_unsupported_workloads = dry_run;
  eo.freeze_estimates = !dry_run;  // nothing submitted, nothing to judge against a prediction
  if (!dry_run) eo.calibration_runs = calibration_runs(opts, c.system);
  eo.output_path = c.system.output_path;
  eo.campaign_inputs = {{"system_config", absolute_or_empty(opts.system_config)},
                        {"tests_dir", absolute_or_empty(opts.tests_dir)},
                        {"test_scenario", absolute_or_empty(opts.test_scenario)},
                        {"output_dir", absolute_or_empty(opts.output_dir)},
                        {"hook_dir", absolute_or_empty(opts.hook_dir)},
                        {"system_name", c.system.name}};
  if (!dry_run && opts.resume_latest) {
    eo.resume_root = latest_unfinished_campaign(c.system.output_path, c.scenario.name);
    if (eo.resume_root.empty()) {
      log::error("--resume: no unfinished campaign of scenario '" + c.scenario.name + "' in " +
                 c.system.output_path.string());
      return std::nullopt;
    }
  } else if (!dry_run && !opts.resume_dir.empty()) {
    eo.resume_root = opts.resume_dir;
  }
  return eo;
}

// Dry-run: an executor that talks to no scheduler. Run: probes the scheduler, installs what the
// tests need, checks it, and hands over the system's executor with the signal handlers set;
// null (logged) when installing failed.
std::unique_ptr<Executor> make_executor(const CommonOptions& opts, LoadedConfig& c, RunMode mode) {
  if (mode == RunMode::kDryRun) return std::make_unique<DryRunExecutor>();
  const Scheduler& scheduler = scheduler_of(c.system);
  scheduler.probe(c.system);  // once; the executor and the workloads read the answer
  auto items = scenario_installables(c);
  if (!opts.enable_cache_without_check && !install_all(items, c.system)) {
    log::error("installation failed; nothing was submitted");
    return nullptr;
  }
  check_installed_workloads(c.system, c.scenario);
  std::unique_ptr<Executor> executor = scheduler.make_executor(c.system);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_hangup);
  return executor;
}

// The references that judge this run's runs; a bad reference file stops before anything runs.
std::vector<Reference> references_of(const CommonOptions& opts, const LoadedConfig& c) {
  std::vector<Reference> from_file;
  if (!opts.reference.empty()) from_file = load_references(opts.reference);
  return scenario_references(std::move(from_file), c.scenario);
}

// Says how the run ended and what to do next; a campaign that ran to its end is closed.
void report_how_it_ended(const EngineResult& result) {
  if (result.detached && !result.lost_scheduler.empty()) {
    log::error(result.lost_scheduler +
               "; the submitted jobs were left as they are. Once Slurm answers again, "
               "continue with\n  benchpilot resume " +
               result.results_root.string());
  } else if (result.detached) {
    log::warn(
        "stopped on SIGHUP: submitted jobs keep running; continue with\n  benchpilot resume " +
        result.results_root.string());
  } else if (result.interrupted) {
    log::warn("interrupted: submitted jobs were cancelled; `benchpilot resume " +
              result.results_root.string() + "` runs the rest");
  } else if (result.campaign) {
    result.campaign->journal().done(result.exit_code);
  }
}

// Runs the engine with the live progress line (not for a dry-run); nullopt (logged) on an error.
std::optional<EngineResult> run_engine(const CommonOptions& opts, const LoadedConfig& c,
                                       RunMode mode, EngineOptions eo, Executor* executor,
                                       const PlannedWork& work) {
  std::unique_ptr<ProgressDisplay> progress;
  if (mode == RunMode::kRun) {
    progress = std::make_unique<ProgressDisplay>(ProgressDisplay::mode_for_stdout(opts.quiet),
                                                 work.jobs, work.pruned);
    eo.progress = progress.get();
  }
  try {
    EngineResult result = run_scenario(c.system, c.scenario, eo, executor);
    if (progress) progress->close();
    return result;
  } catch (const Error& e) {
    if (progress) progress->close();
    log::error(e.what());
    return std::nullopt;
  }
}

}  // namespace

int cmd_run(const CommonOptions& opts, RunMode mode) {
  LoadedConfig c = load_config(opts);
  if (opts.single_sbatch) {
    log::error(
        "--single-sbatch is not supported: benchpilot submits each run as a job of its own "
        "(a workload's launcher may submit its own), and runs sweep points in parallel");
    return 1;
  }
  preflight(c.system, c.scenario);
  std::optional<PlannedWork> work = show_plan_within_limits(opts, c);
  if (!work) return 1;
  std::optional<EngineOptions> eo = engine_options(opts, c, mode);
  if (!eo) return 1;
  std::unique_ptr<Executor> executor = make_executor(opts, c, mode);
  if (!executor) return 1;
  const std::vector<Reference> references = references_of(opts, c);

  std::optional<EngineResult> result = run_engine(opts, c, mode, *eo, executor.get(), *work);
  if (!result) return 1;
  int regressions = 0;
  if (mode == RunMode::kRun && !result->detached)
    regressions = record_runs(run_store_path(opts, c.system), result->results_root, result->records,
                              IndexContext{c.system.name, BENCHPILOT_VERSION}, references,
                              RecordOptions{opts.fail_on_regression || !references.empty(),
                                            opts.fail_on_regression && opts.reference.empty(),
                                            CompareOptions{.min_effect = opts.min_effect}});
  write_summary(result->results_root, c.scenario.name, result->records);
  const bool outputs_written = write_result_reports(c, opts, result->results_root, result->records);
  std::cout << "\n" << format_results_table(result->records);
  std::cout << "\nResults: " << result->results_root.string() << "\n";
  report_how_it_ended(*result);
  int code = result->exit_code;
  if (opts.fail_on_regression && regressions > 0) {
    log::error(std::to_string(regressions) + " run(s) regressed (--fail-on-regression)");
    if (code == 0) code = 1;
  }
  // A missing --junit file outranks failed runs (CI would read them from it), not a stop.
  if (!outputs_written && (code == 0 || code == 1)) code = kExitOutputFailed;
  return code;
}

}  // namespace bp
