#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/limits.h"
#include "util/error.h"
#include "util/log.h"

namespace bp {

namespace {

void add_common(CLI::App* cmd, CommonOptions& o, bool with_run_flags,
                bool with_report_flags = false) {
  cmd->add_option("--system-config", o.system_config,
                  "System TOML (default: $BENCHPILOT_SYSTEM_CONFIG or $CLOUDAI_SYSTEM_CONFIG)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tests-dir", o.tests_dir, "Folder of test TOMLs (every *.toml in it)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--test-scenario", o.test_scenario, "Scenario TOML")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--hook-dir", o.hook_dir,
                  "Folder of pre_test/post_test hook scenarios (*.toml) and their tests (test/); "
                  "default conf/hook");
  if (with_run_flags) {
    cmd->add_option("--output-dir", o.output_dir,
                    "Where the results folder is created (default: the system's output_path)");
    cmd->add_flag("--enable-cache-without-check", o.enable_cache_without_check,
                  "Assume installables are present without checking");
    cmd->add_option("--resume", o.resume_dir,
                    "Continue a campaign instead of starting a new one: the given results folder, "
                    "or (no value) the newest unfinished one of this scenario")
        ->expected(0, 1);
    cmd->add_option("--store", o.store,
                    "Results store (SQLite) to record finished runs in (default: "
                    "$BENCHPILOT_STORE, else <output_path>/benchpilot.db)");
    cmd->add_flag("--fail-on-regression", o.fail_on_regression,
                  "Exit 1 when a run is worse than its reference (--reference) or, without "
                  "one, than the last passing run of its configuration on this system");
    cmd->add_option("--reference", o.reference,
                    "TOML file of expected values of each workload's comparison metric")
        ->check(CLI::ExistingFile);
    cmd->add_option("--min-effect", o.min_effect,
                    "Smallest relative change of the comparison metric that counts (0.02 = 2%)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    const WorkLimits limits;
    cmd->add_flag(kAllowLargeFlag, o.allow_large,
                  "Confirm work above the safety limits: more than " +
                      std::to_string(limits.points_per_case) + " sweep points in a case, " +
                      std::to_string(limits.jobs) + " jobs (run folders), " +
                      std::to_string(static_cast<long long>(limits.gpu_hours)) + " GPU-hours or " +
                      std::to_string(limits.iterations) + " iterations of a case");
    cmd->add_flag("--single-sbatch", o.single_sbatch,
                  "CloudAI's single-sbatch mode (not supported: each run is a job of its own, "
                  "and a workload's launcher may submit its own)");
  }
  if (with_report_flags) {
    cmd->add_option("--junit", o.junit,
                    "Write the JUnit XML here (default: results.xml in the results folder)");
  }
}

// The system config may come from the environment, as in CloudAI.
bool resolve_system_config(CommonOptions& o) {
  if (!o.system_config.empty()) return true;
  for (const char* var : {"BENCHPILOT_SYSTEM_CONFIG", "CLOUDAI_SYSTEM_CONFIG"}) {
    if (const char* v = std::getenv(var); v && *v) {
      o.system_config = v;
      return true;
    }
  }
  std::cerr << "error: --system-config is required (or set BENCHPILOT_SYSTEM_CONFIG / "
               "CLOUDAI_SYSTEM_CONFIG)\n";
  return false;
}

// Every subcommand and the options CLI11 fills in while parsing (CLI11 keeps pointers into this
// struct, so it stays where it was made).
struct Subcommands {
  CLI::App* run = nullptr;
  CLI::App* dry = nullptr;
  CLI::App* plan = nullptr;
  CLI::App* estimate = nullptr;
  CLI::App* inst = nullptr;
  CLI::App* uninst = nullptr;
  CLI::App* report = nullptr;
  CLI::App* resume = nullptr;
  CLI::App* index = nullptr;
  CLI::App* history = nullptr;
  CLI::App* compare = nullptr;
  CLI::App* verify = nullptr;
  CLI::App* list = nullptr;

  CommonOptions run_opts, dry_opts, plan_opts, est_opts, inst_opts, uninst_opts, report_opts;
  EstimateFlags est_flags;
  bool est_raw = false, est_accuracy = false, plan_raw = false;
  std::string result_dir;
  std::string resume_dir;
  CommonOptions resume_opts;
  StoreLocation index_where;
  std::vector<std::string> index_dirs;
  std::string index_system;
  HistoryOptions hist;
  bool hist_json = false, hist_csv = false;
  CompareOptionsCli cmp;
  std::string verify_dir, verify_tests;
  bool verify_strict = false;
  std::string list_what;
  bool list_verbose = false;
};

// run, dry-run, plan, estimate, install, uninstall and generate-report: the commands that read a
// system, tests and a scenario.
void add_scenario_commands(CLI::App& app, Subcommands& c) {
  c.run = app.add_subcommand("run", "Install what is missing, submit, monitor, report");
  add_common(c.run, c.run_opts, true, true);
  c.run->add_flag("--quiet", c.run_opts.quiet, "No progress output; only warnings and errors");
  c.dry = app.add_subcommand("dry-run", "Generate every run directory and script; submit nothing");
  add_common(c.dry, c.dry_opts, true, true);
  c.dry->add_flag("--quiet", c.dry_opts.quiet, "Only warnings and errors");
  c.plan = app.add_subcommand(
      "plan",
      "Show sweep sizes, pruned points and the GPU-hour budget: from the time limits and, for "
      "workloads that estimate, each running point's predicted step time and memory per GPU and "
      "the GPU-hours of (steps x step time + start-up) x GPUs");
  add_common(c.plan, c.plan_opts, true);
  c.plan->add_flag("--no-calibration", c.plan_raw,
                   "The raw model's step time, not corrected by the finished runs of the "
                   "results store (--store, $BENCHPILOT_STORE, else <output_path>/benchpilot.db)");
  c.estimate = app.add_subcommand(
      "estimate",
      "Predict memory per GPU (and whether it fits) for every point; needs no install or token");
  add_common(c.estimate, c.est_opts, true);
  c.estimate->get_option("--test-scenario")->required(false);  // not with --accuracy
  c.estimate->add_flag("--json", c.est_flags.json, "JSON output: {\"points\": [...]}");
  c.estimate->add_flag("-v,--verbose", c.est_flags.verbose, "Memory parts per point");
  c.estimate->add_flag(
      "--no-calibration", c.est_raw,
      "The raw model's step time, not corrected by the finished runs of the "
      "results store (--store, $BENCHPILOT_STORE, else <output_path>/benchpilot.db)");
  c.estimate->add_flag("--accuracy", c.est_accuracy,
                       "The step time's error on the store's finished runs, per model and system "
                       "(median and worst; each run judged by a calibration fitted without it), "
                       "beside the raw model's; needs no --test-scenario");
  c.inst = app.add_subcommand("install", "Clone repositories, build environments, cache images");
  add_common(c.inst, c.inst_opts, false);
  c.uninst = app.add_subcommand("uninstall", "Remove what install created");
  add_common(c.uninst, c.uninst_opts, false);
  c.report = app.add_subcommand("generate-report", "Re-create reports for a results folder");
  add_common(c.report, c.report_opts, false, true);
  c.report->add_option("--result-dir", c.result_dir, "Results folder (benchpilot's or CloudAI's)")
      ->required()
      ->check(CLI::ExistingDirectory);
}

void add_resume_command(CLI::App& app, Subcommands& c) {
  c.resume = app.add_subcommand(
      "resume", "Continue a campaign after benchpilot stopped (kill -9, lost session, reboot)");
  CommonOptions& o = c.resume_opts;
  c.resume->add_option("results_dir", c.resume_dir, "The campaign's results folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  c.resume->add_flag("--enable-cache-without-check", o.enable_cache_without_check,
                     "Assume installables are present without checking");
  c.resume->add_option("--store", o.store, "Results store (as for run)");
  c.resume->add_flag("--fail-on-regression", o.fail_on_regression,
                     "As for run: exit 1 when a run regressed");
  c.resume
      ->add_option("--reference", o.reference,
                   "TOML file of expected values of each workload's comparison metric")
      ->check(CLI::ExistingFile);
  c.resume
      ->add_option("--min-effect", o.min_effect,
                   "Smallest relative change of the comparison metric that counts")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
}

// --store and --system-config of the commands that read the results store.
void add_store_location(CLI::App* cmd, StoreLocation& w) {
  cmd->add_option("--store", w.store,
                  "Results store (default: $BENCHPILOT_STORE, else <output_path>/benchpilot.db "
                  "of --system-config)");
  cmd->add_option("--system-config", w.system_config, "System TOML (for its output_path)")
      ->check(CLI::ExistingFile);
}

void add_index_command(CLI::App& app, Subcommands& c) {
  c.index = app.add_subcommand(
      "index", "Rebuild the results store from results folders (benchpilot's and CloudAI's)");
  add_store_location(c.index, c.index_where);
  c.index->add_option("dirs", c.index_dirs, "Results folders, or folders holding them")
      ->required()
      ->check(CLI::ExistingDirectory);
  c.index->add_option("--system", c.index_system,
                      "System name for folders that do not record one (CloudAI's)");
}

void add_history_command(CLI::App& app, Subcommands& c) {
  c.history = app.add_subcommand("history", "Runs in the results store, newest first");
  HistoryOptions& hist = c.hist;
  CLI::App* history = c.history;
  add_store_location(history, hist.where);
  history->add_option("--model", hist.model, "Model recipe (e.g. llama3_8b)");
  history->add_option("--system", hist.system, "System name");
  history->add_option("--workload", hist.workload, "Workload (test_template_name)");
  history->add_option("--campaign", hist.campaign, "Campaign id or results folder");
  history->add_option("--param", hist.params, "NAME=VALUE (repeatable; tp=2 means cmd_args.tp)");
  history->add_option("--since", hist.since, "Runs that ended at or after (ISO date/time)");
  history->add_option("--until", hist.until, "Runs that ended before (ISO date/time)");
  history->add_flag("--passed", hist.passed_only, "Only passing runs");
  history->add_option("--limit", hist.limit, "At most this many runs (0: all)")
      ->capture_default_str();
  history->add_flag("--json", c.hist_json, "JSON output (with metric samples)");
  history->add_flag("--csv", c.hist_csv, "CSV output");
  history->add_option(
      "--html", hist.html,
      "Also write an HTML page (each configuration's comparison metric over time) to PATH");
}

void add_compare_command(CLI::App& app, Subcommands& c) {
  c.compare = app.add_subcommand(
      "compare", "Compare two results folders or stored campaigns, configuration by configuration");
  CompareOptionsCli& cmp = c.cmp;
  CLI::App* compare = c.compare;
  add_store_location(compare, cmp.where);
  compare->add_option("a", cmp.a, "Baseline: results folder or campaign id")->required();
  compare->add_option("b", cmp.b, "Candidate: results folder or campaign id")->required();
  compare
      ->add_option("--min-effect", cmp.min_effect,
                   "Smallest relative change of the comparison metric that counts")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  compare->add_option("--alpha", cmp.alpha, "Significance level of the rank test")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  compare->add_flag("--json", cmp.json, "JSON output");
  compare->add_flag("--fail-on-regression", cmp.fail_on_regression,
                    "Exit 1 when a configuration of B is worse (slower) than in A");
  compare->add_option("--html", cmp.html,
                      "Also write an HTML page (A and B side by side, regressions marked) to PATH");
}

void add_verify_and_list_commands(CLI::App& app, Subcommands& c) {
  c.verify = app.add_subcommand("verify-configs", "Check every TOML file under a folder");
  c.verify->add_option("configs_dir", c.verify_dir, "Folder to check (recursively)")
      ->required()
      ->check(CLI::ExistingPath);
  c.verify->add_option("--tests-dir", c.verify_tests,
                       "Tests for the scenarios (default: those found)");
  c.verify->add_flag("--strict", c.verify_strict,
                     "Also fail on files for a workload or scheduler benchpilot does not have");
  c.list = app.add_subcommand("list", "List workloads, agents or reports");
  c.list->add_option("what", c.list_what, "workloads | agents | reports")
      ->required()
      ->check(CLI::IsMember({"workloads", "agents", "reports"}));
  c.list->add_flag("-v,--verbose", c.list_verbose, "More detail");
}

// Runs the subcommand that was parsed; its exit code.
// estimate, or with --accuracy its error on the store's runs (no scenario then).
int run_estimate(Subcommands& c) {
  if (c.est_accuracy)
    return cmd_estimate_accuracy({c.est_opts.store, c.est_opts.system_config}, c.est_flags.json);
  if (c.est_opts.test_scenario.empty()) {
    std::cerr << "error: --test-scenario is required (unless --accuracy)\n";
    return 2;
  }
  c.est_flags.calibrate = !c.est_raw;
  return resolve_system_config(c.est_opts) ? cmd_estimate(c.est_opts, c.est_flags) : 2;
}

int run_subcommand(Subcommands& c) {
  if (*c.run) {
    if (c.run->count("--resume") && c.run_opts.resume_dir.empty()) c.run_opts.resume_latest = true;
    return resolve_system_config(c.run_opts) ? cmd_run(c.run_opts, RunMode::kRun) : 2;
  }
  if (*c.resume) return cmd_resume(c.resume_dir, c.resume_opts);
  if (*c.index) return cmd_index(c.index_where, c.index_dirs, c.index_system);
  if (*c.history) {
    c.hist.format = c.hist_json ? "json" : c.hist_csv ? "csv" : "table";
    return cmd_history(c.hist);
  }
  if (*c.compare) return cmd_compare(c.cmp);
  if (*c.dry) return resolve_system_config(c.dry_opts) ? cmd_run(c.dry_opts, RunMode::kDryRun) : 2;
  if (*c.plan) return resolve_system_config(c.plan_opts) ? cmd_plan(c.plan_opts, !c.plan_raw) : 2;
  if (*c.estimate) return run_estimate(c);
  if (*c.inst)
    return resolve_system_config(c.inst_opts) ? cmd_install(c.inst_opts, InstallAction::kInstall)
                                              : 2;
  if (*c.uninst)
    return resolve_system_config(c.uninst_opts)
               ? cmd_install(c.uninst_opts, InstallAction::kUninstall)
               : 2;
  if (*c.report)
    return resolve_system_config(c.report_opts) ? cmd_generate_report(c.report_opts, c.result_dir)
                                                : 2;
  if (*c.verify) return cmd_verify_configs(c.verify_dir, c.verify_tests, c.verify_strict);
  if (*c.list) return cmd_list(c.list_what, c.list_verbose);
  return 0;
}

}  // namespace

int cli_main(int argc, char** argv) {
  CLI::App app{
      "benchpilot: benchmark orchestrator for large-model training on GPU clusters.\n"
      "Reads CloudAI system/test/scenario TOML files; runs Megatron-Bridge sweeps on Slurm."};
  app.set_version_flag("--version", std::string("benchpilot, version ") + BENCHPILOT_VERSION);
  app.require_subcommand(1);
  app.footer("Exit codes: 0 done; 1 a run, check or input failed; 2 a bad option value; " +
             std::to_string(kExitOutputFailed) +
             " an output file named on the command line (--junit, --html) could not be "
             "written (the runs are kept); 75 the scheduler stopped answering (resume later); "
             "130 interrupted.");
  std::string log_level = "INFO";
  std::string log_file = "debug.log";
  app.add_option("--log-level", log_level, "Console log level: DEBUG, INFO, WARNING, ERROR")
      ->capture_default_str();
  app.add_option("--log-file", log_file, "Debug log file (use '' for none)")->capture_default_str();

  Subcommands c;
  add_scenario_commands(app, c);
  add_resume_command(app, c);
  add_index_command(app, c);
  add_history_command(app, c);
  add_compare_command(app, c);
  add_verify_and_list_commands(app, c);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  log::Level level;
  if (!log::parse_level(log_level, level)) {
    std::cerr << "error: --log-level: expected DEBUG, INFO, WARNING or ERROR, got '" << log_level
              << "'\n";
    return 2;
  }
  // --quiet keeps the console to warnings and errors unless a level was asked for.
  if ((c.run_opts.quiet || c.dry_opts.quiet) && app.get_option("--log-level")->count() == 0)
    level = log::Level::kWarning;
  try {
    log::init(level, log_file);
  } catch (const OutputError& e) {  // before anything ran: nothing to keep
    std::cerr << "error: " << e.what() << "\n";
    return kExitOutputFailed;
  }

  try {
    return run_subcommand(c);
  } catch (const OutputError& e) {  // --html of history/compare
    log::error(e.what());
    return kExitOutputFailed;
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
}

}  // namespace bp
