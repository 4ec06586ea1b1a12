#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/limits.h"
#include "util/log.h"

namespace bp {

namespace {

void add_common(CLI::App* cmd, CommonOptions& o, bool with_run_flags) {
  cmd->add_option("--system-config", o.system_config,
                  "System TOML (default: $BENCHPILOT_SYSTEM_CONFIG or $CLOUDAI_SYSTEM_CONFIG)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tests-dir", o.tests_dir, "Folder of test TOMLs (every *.toml in it)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--test-scenario", o.test_scenario, "Scenario TOML")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--hook-dir", o.hook_dir,
                  "Accepted for CloudAI compatibility; hooks are not "
                  "supported yet");
  if (with_run_flags) {
    cmd->add_option("--output-dir", o.output_dir,
                    "Where the results folder is created (default: the system's output_path)");
    cmd->add_flag("--enable-cache-without-check", o.enable_cache_without_check,
                  "Assume installables are present without checking");
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
  std::string log_level = "INFO";
  std::string log_file = "debug.log";
  app.add_option("--log-level", log_level, "Console log level: DEBUG, INFO, WARNING, ERROR")
      ->capture_default_str();
  app.add_option("--log-file", log_file, "Debug log file (use '' for none)")->capture_default_str();

  CommonOptions run_opts, dry_opts, plan_opts, inst_opts, uninst_opts, report_opts;
  auto* run = app.add_subcommand("run", "Install what is missing, submit, monitor, report");
  add_common(run, run_opts, true);
  auto* dry =
      app.add_subcommand("dry-run", "Generate every run directory and script; submit nothing");
  add_common(dry, dry_opts, true);
  auto* plan =
      app.add_subcommand("plan", "Show sweep sizes, pruned points and the GPU-hour budget");
  add_common(plan, plan_opts, true);
  auto* inst =
      app.add_subcommand("install", "Clone repositories, build environments, cache images");
  add_common(inst, inst_opts, false);
  auto* uninst = app.add_subcommand("uninstall", "Remove what install created");
  add_common(uninst, uninst_opts, false);
  auto* report = app.add_subcommand("generate-report", "Re-create reports for a results folder");
  add_common(report, report_opts, false);
  std::string result_dir;
  report->add_option("--result-dir", result_dir, "Results folder (benchpilot's or CloudAI's)")
      ->required()
      ->check(CLI::ExistingDirectory);
  auto* verify = app.add_subcommand("verify-configs", "Check every TOML file under a folder");
  std::string verify_dir, verify_tests;
  verify->add_option("configs_dir", verify_dir, "Folder to check (recursively)")
      ->required()
      ->check(CLI::ExistingPath);
  verify->add_option("--tests-dir", verify_tests, "Tests for the scenarios (default: those found)");
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
  log::init(level, log_file);

  try {
    if (*run) return resolve_system_config(run_opts) ? cmd_run(run_opts, false) : 2;
    if (*dry) return resolve_system_config(dry_opts) ? cmd_run(dry_opts, true) : 2;
    if (*plan) return resolve_system_config(plan_opts) ? cmd_plan(plan_opts) : 2;  // PLAN
    if (*inst) return resolve_system_config(inst_opts) ? cmd_install(inst_opts, false) : 2;
    if (*uninst) return resolve_system_config(uninst_opts) ? cmd_install(uninst_opts, true) : 2;
    if (*report)
      return resolve_system_config(report_opts) ? cmd_generate_report(report_opts, result_dir) : 2;
    if (*verify) return cmd_verify_configs(verify_dir, verify_tests);
    if (*list) return cmd_list(what, verbose);
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
  return 0;
}

}  // namespace bp
