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
                    "<output_path>/benchpilot.db)");
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
                  "CloudAI's single-sbatch mode (not supported: Megatron-Bridge submits its own "
                  "jobs)");
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

  CommonOptions run_opts, dry_opts, plan_opts, est_opts, inst_opts, uninst_opts, report_opts;
  auto* run = app.add_subcommand("run", "Install what is missing, submit, monitor, report");
  add_common(run, run_opts, true, true);
  run->add_flag("--quiet", run_opts.quiet, "No progress output; only warnings and errors");
  auto* dry =
      app.add_subcommand("dry-run", "Generate every run directory and script; submit nothing");
  add_common(dry, dry_opts, true, true);
  dry->add_flag("--quiet", dry_opts.quiet, "Only warnings and errors");
  auto* plan =
      app.add_subcommand("plan", "Show sweep sizes, pruned points and the GPU-hour budget");
  add_common(plan, plan_opts, true);
  auto* estimate = app.add_subcommand(
      "estimate",
      "Predict memory per GPU (and whether it fits) for every point; needs no install or token");
  add_common(estimate, est_opts, true);
  bool est_json = false, est_verbose = false;
  estimate->add_flag("--json", est_json, "JSON output: {\"points\": [...]}");
  estimate->add_flag("-v,--verbose", est_verbose, "Memory parts per point");
  auto* inst =
      app.add_subcommand("install", "Clone repositories, build environments, cache images");
  add_common(inst, inst_opts, false);
  auto* uninst = app.add_subcommand("uninstall", "Remove what install created");
  add_common(uninst, uninst_opts, false);
  auto* report = app.add_subcommand("generate-report", "Re-create reports for a results folder");
  add_common(report, report_opts, false, true);
  std::string result_dir;
  report->add_option("--result-dir", result_dir, "Results folder (benchpilot's or CloudAI's)")
      ->required()
      ->check(CLI::ExistingDirectory);
  auto* resume = app.add_subcommand(
      "resume", "Continue a campaign after benchpilot stopped (kill -9, lost session, reboot)");
  std::string resume_dir;
  CommonOptions resume_opts;
  resume->add_option("results_dir", resume_dir, "The campaign's results folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  resume->add_flag("--enable-cache-without-check", resume_opts.enable_cache_without_check,
                   "Assume installables are present without checking");
  resume->add_option("--store", resume_opts.store, "Results store (as for run)");
  resume->add_flag("--fail-on-regression", resume_opts.fail_on_regression,
                   "As for run: exit 1 when a run regressed");
  resume
      ->add_option("--reference", resume_opts.reference,
                   "TOML file of expected values of each workload's comparison metric")
      ->check(CLI::ExistingFile);
  resume
      ->add_option("--min-effect", resume_opts.min_effect,
                   "Smallest relative change of the comparison metric that counts")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  auto add_store = [](CLI::App* cmd, StoreLocation& w) {
    cmd->add_option("--store", w.store,
                    "Results store (default: $BENCHPILOT_STORE, else <output_path>/benchpilot.db "
                    "of --system-config)");
    cmd->add_option("--system-config", w.system_config, "System TOML (for its output_path)")
        ->check(CLI::ExistingFile);
  };
  auto* index = app.add_subcommand(
      "index", "Rebuild the results store from results folders (benchpilot's and CloudAI's)");
  StoreLocation index_where;
  std::vector<std::string> index_dirs;
  std::string index_system;
  add_store(index, index_where);
  index->add_option("dirs", index_dirs, "Results folders, or folders holding them")
      ->required()
      ->check(CLI::ExistingDirectory);
  index->add_option("--system", index_system,
                    "System name for folders that do not record one (CloudAI's)");
  auto* history = app.add_subcommand("history", "Runs in the results store, newest first");
  HistoryOptions hist;
  add_store(history, hist.where);
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
  bool hist_json = false, hist_csv = false;
  history->add_flag("--json", hist_json, "JSON output (with metric samples)");
  history->add_flag("--csv", hist_csv, "CSV output");
  history->add_option(
      "--html", hist.html,
      "Also write an HTML page (each configuration's comparison metric over time) to PATH");
  auto* compare = app.add_subcommand(
      "compare", "Compare two results folders or stored campaigns, configuration by configuration");
  CompareOptionsCli cmp;
  add_store(compare, cmp.where);
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
  auto* verify = app.add_subcommand("verify-configs", "Check every TOML file under a folder");
  std::string verify_dir, verify_tests;
  verify->add_option("configs_dir", verify_dir, "Folder to check (recursively)")
      ->required()
      ->check(CLI::ExistingPath);
  verify->add_option("--tests-dir", verify_tests, "Tests for the scenarios (default: those found)");
  bool verify_strict = false;
  verify->add_flag("--strict", verify_strict,
                   "Also fail on files for a workload or scheduler benchpilot does not have");
  auto* list = app.add_subcommand("list", "List workloads, agents or reports");
  std::string what;
  bool verbose = false;
  list->add_option("what", what, "workloads | agents | reports")
      ->required()
      ->check(CLI::IsMember({"workloads", "agents", "reports"}));
  list->add_flag("-v,--verbose", verbose, "More detail");

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
  if ((run_opts.quiet || dry_opts.quiet) && app.get_option("--log-level")->count() == 0)
    level = log::Level::kWarning;
  try {
    log::init(level, log_file);
  } catch (const OutputError& e) {  // before anything ran: nothing to keep
    std::cerr << "error: " << e.what() << "\n";
    return kExitOutputFailed;
  }

  try {
    if (*run) {
      if (run->count("--resume") && run_opts.resume_dir.empty()) run_opts.resume_latest = true;
      return resolve_system_config(run_opts) ? cmd_run(run_opts, false) : 2;
    }
    if (*resume) return cmd_resume(resume_dir, resume_opts);
    if (*index) return cmd_index(index_where, index_dirs, index_system);
    if (*history) {
      hist.format = hist_json ? "json" : hist_csv ? "csv" : "table";
      return cmd_history(hist);
    }
    if (*compare) return cmd_compare(cmp);
    if (*dry) return resolve_system_config(dry_opts) ? cmd_run(dry_opts, true) : 2;
    if (*plan) return resolve_system_config(plan_opts) ? cmd_plan(plan_opts) : 2;  // PLAN
    if (*estimate)
      return resolve_system_config(est_opts) ? cmd_estimate(est_opts, est_json, est_verbose) : 2;
    if (*inst) return resolve_system_config(inst_opts) ? cmd_install(inst_opts, false) : 2;
    if (*uninst) return resolve_system_config(uninst_opts) ? cmd_install(uninst_opts, true) : 2;
    if (*report)
      return resolve_system_config(report_opts) ? cmd_generate_report(report_opts, result_dir) : 2;
    if (*verify) return cmd_verify_configs(verify_dir, verify_tests, verify_strict);
    if (*list) return cmd_list(what, verbose);
  } catch (const OutputError& e) {  // --html of history/compare
    log::error(e.what());
    return kExitOutputFailed;
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
  return 0;
}

}  // namespace bp
