// run and dry-run.
#include <csignal>
#include <iostream>

#include "campaign/campaign.h"
#include "cli/commands.h"
#include "cli/limits.h"
#include "cli/load.h"
#include "cli/progress.h"
#include "core/dry_run_executor.h"
#include "core/executor.h"
#include "core/install.h"
#include "core/run_label.h"
#include "core/scheduler.h"
#include "core/workload.h"
#include "engine/engine.h"
#include "report/summary.h"
#include "store/indexer.h"
#include "store/regression.h"
#include "store/store.h"
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

// Records the finished runs in the results store and, when asked, judges each against its
// reference (setting RunRecord::perf_verdict). Returns how many regressed. The store is an
// index: when it cannot be written the run still succeeds (`benchpilot index` rebuilds it).
int record_and_judge(const CommonOptions& opts, const System& system, EngineResult& result,
                     const std::vector<Reference>& references) {
  if (result.records.empty()) return 0;
  const bool judge = opts.fail_on_regression || !references.empty();
  int regressions = 0;
  try {
    IndexContext ctx{system.name, BENCHPILOT_VERSION};
    std::vector<StoredRun> runs = runs_from_records(result.results_root, result.records, ctx);
    const std::filesystem::path path = opts.store.empty() ? default_store_path(system.output_path)
                                                          : std::filesystem::path(opts.store);
    std::unique_ptr<ResultsStore> store = open_sqlite_store(path);
    if (judge) {
      CompareOptions co;
      co.min_effect = opts.min_effect;
      // Without a reference file, --fail-on-regression judges every other run against the last
      // passing run of its configuration.
      std::vector<GateVerdict> verdicts = regression_verdicts(
          runs, references, store.get(), co, opts.fail_on_regression && opts.reference.empty());
      for (size_t i = 0; i < runs.size(); ++i)
        for (RunRecord& rec : result.records)
          if (std::filesystem::absolute(rec.run_dir).lexically_normal().string() ==
              runs[i].run_dir) {
            rec.perf_verdict = verdicts[i].text;
            if (verdicts[i].regression) {
              ++regressions;
              log::error("regression: " + run_label(runs[i].case_id, rec.iteration, rec.step) +
                         ": " + verdicts[i].text);
            }
          }
    }
    store->record(runs);
    log::info("recorded " + std::to_string(runs.size()) + " run(s) in " + path.string());
  } catch (const std::exception& e) {
    log::warn(std::string("results store: ") + e.what() +
              " (the results folder is complete; `benchpilot index` "
              "can record it later)");
  }
  return regressions;
}

// Calls `check` with every test of the scenario, hooks' included.
template <typename F>
void for_each_test(const LoadedConfig& c, F check) {
  for (const TestRun& run : c.scenario.runs) {
    check(run);
    for (const auto& hook : {run.pre_test, run.post_test})
      if (hook)
        for (const TestRun& h : hook->runs) check(h);
  }
}

}  // namespace

int cmd_run(const CommonOptions& opts, bool dry_run) {
  LoadedConfig c = load_config(opts);
  if (opts.single_sbatch) {
    log::error(
        "--single-sbatch is not supported: Megatron-Bridge's launcher submits its own "
        "jobs, and benchpilot runs sweep points in parallel instead");
    return 1;
  }
  // The HF token and similar checks come first, once: nothing is installed or written before.
  for_each_test(c, [&](const TestRun& run) {
    if (const Workload* w = find_workload(run.test.test_template_name))
      w->preflight(run.test, c.system);
  });

  check_cases(c);
  uint64_t planned_jobs = 0, planned_pruned = 0;
  {  // the same cost summary as `benchpilot plan`, before anything is spent
    WorkLimits limits;
    if (!opts.allow_large) check_sweep_sizes(c.scenario, limits);
    std::vector<Plan> plans;
    for (const TestRun& run : c.scenario.runs) plans.push_back(make_plan(run, c.system));
    if (!opts.quiet) std::cout << format_plan(plans) << std::endl;  // flushed: the log follows
    std::vector<std::string> over = exceeded_limits(c.scenario, plans, limits);
    if (!over.empty() && !opts.allow_large) {
      log::error("refusing to start: " + join(over, "; ") + ". Nothing was written; pass " +
                 kAllowLargeFlag + " to confirm");
      return 1;
    }
    for (const Plan& p : plans) {
      planned_jobs += p.jobs;
      planned_pruned += p.pruned * static_cast<uint64_t>(p.iterations);
    }
  }

  const Scheduler& scheduler = scheduler_of(c.system);
  EngineOptions eo;
  eo.journal = !dry_run;  // nothing submitted, nothing to resume
  eo.allow_unsupported_workloads = dry_run;
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
      return 1;
    }
  } else if (!dry_run && !opts.resume_dir.empty()) {
    eo.resume_root = opts.resume_dir;
  }

  std::unique_ptr<Executor> executor;
  if (dry_run) {
    executor = std::make_unique<DryRunExecutor>();  // talks to no scheduler
  } else {
    scheduler.probe(c.system);  // once; the executor and the workloads read the answer
    auto items = scenario_installables(c);
    if (!opts.enable_cache_without_check && !install_all(items, c.system)) {
      log::error("installation failed; nothing was submitted");
      return 1;
    }
    // What the preflight could not see before installing (the pinned launcher's flags).
    for_each_test(c, [&](const TestRun& run) {
      if (const Workload* w = find_workload(run.test.test_template_name))
        w->check_installed(run.test, c.system);
    });
    executor = scheduler.make_executor(c.system);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGHUP, on_hangup);
  }

  // The reference file's entries first (the command line is the most specific), then each
  // case's own (`reference` in its test or scenario TOML).
  std::vector<Reference> references;
  if (!opts.reference.empty()) references = load_references(opts.reference);  // bad file: no run
  for (const TestRun& run : c.scenario.runs)
    for (Reference ref : run.test.references) {
      ref.case_id = run.id;
      references.push_back(std::move(ref));
    }

  std::unique_ptr<ProgressDisplay> progress;
  if (!dry_run) {
    progress = std::make_unique<ProgressDisplay>(ProgressDisplay::mode_for_stdout(opts.quiet),
                                                 planned_jobs, planned_pruned);
    eo.progress = progress.get();
  }
  EngineResult result;
  try {
    result = run_scenario(c.system, c.scenario, eo, executor.get());
  } catch (const Error& e) {
    if (progress) progress->close();
    log::error(e.what());
    return 1;
  }
  if (progress) progress->close();
  int regressions = 0;
  if (!dry_run && !result.detached)
    regressions = record_and_judge(opts, c.system, result, references);
  write_summary(result.results_root, c.scenario.name, result.records);
  const bool outputs_written = write_result_reports(c, opts, result.results_root, result.records);
  std::cout << "\n" << format_results_table(result.records);
  std::cout << "\nResults: " << result.results_root.string() << "\n";
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
  int code = result.exit_code;
  if (opts.fail_on_regression && regressions > 0) {
    log::error(std::to_string(regressions) + " run(s) regressed (--fail-on-regression)");
    if (code == 0) code = 1;
  }
  // A missing --junit file outranks failed runs (CI would read them from it), not a stop.
  if (!outputs_written && (code == 0 || code == 1)) code = kExitOutputFailed;
  return code;
}

}  // namespace bp
