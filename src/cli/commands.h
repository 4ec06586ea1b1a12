// One function per subcommand; cli.cc parses the command line and calls them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/calibration.h"
#include "store/compare_defaults.h"
#include "util/error.h"

namespace bp {

// Options shared by run, dry-run, plan, install, uninstall and generate-report (CloudAI's
// "common options").
struct CommonOptions {
  std::string system_config;
  std::string tests_dir;
  std::string test_scenario;
  std::string hook_dir;
  std::string output_dir;
  bool enable_cache_without_check = false;
  bool single_sbatch = false;
  std::string junit;   // results.xml elsewhere than the results folder
  bool quiet = false;  // no progress output, warnings and errors only
  // run: continue the campaign of this results folder (resume_latest: the newest unfinished one
  // of the scenario) instead of starting a new one.
  std::string resume_dir;
  bool resume_latest = false;
  // run: the results store (default <output_path>/benchpilot.db); the regression gate.
  std::string store;
  bool fail_on_regression = false;
  std::string reference;  // TOML file of expected values; empty: the last passing run
  double min_effect = kDefaultMinEffect;
  bool allow_large = false;  // --allow-large: lift the limits of cli/limits.h
};

// Where history, compare and index find the store: --store, else $BENCHPILOT_STORE, else the
// output_path of --system-config (or $BENCHPILOT_SYSTEM_CONFIG / $CLOUDAI_SYSTEM_CONFIG).
struct StoreLocation {
  std::string store;
  std::string system_config;
};

struct HistoryOptions {
  StoreLocation where;
  std::string model, system, workload, campaign, since, until;
  std::vector<std::string> params;  // "name=value" (name without "cmd_args." also matches)
  bool passed_only = false;
  std::string format = "table";  // table | json | csv
  long long limit = 50;
  std::string html;  // also write the history page here; empty: no page
};

struct CompareOptionsCli {
  StoreLocation where;
  std::string a, b;  // results folders or stored campaign ids
  double min_effect = kDefaultMinEffect;
  double alpha = kDefaultAlpha;
  bool json = false;
  bool fail_on_regression = false;
  std::string html;  // also write the comparison page here; empty: no page
};

// kDryRun: generates every run folder and submits nothing.
enum class RunMode { kRun, kDryRun };
int cmd_run(const CommonOptions& opts, RunMode mode);
// plan: sweep sizes, pruned points, jobs and GPU-hours; with a workload's estimator, each
// running point's prediction and the GPU-hours from predicted run times, the step time
// calibrated by the results store unless `calibrate` is false.
int cmd_plan(const CommonOptions& opts, bool calibrate);
struct EstimateFlags {
  bool json = false;
  bool verbose = false;  // -v: memory parts
  // Corrects the step time by the results store's finished runs on this system (default
  // store as history finds it); --no-calibration shows the raw model.
  bool calibrate = true;
};
// Memory per GPU (and what else the workloads predict) for every point.
int cmd_estimate(const CommonOptions& opts, const EstimateFlags& flags);
// The results store's runs that calibrate step times (--store, $BENCHPILOT_STORE, else
// <output_path>/benchpilot.db); none, with a warning, when it cannot be read.
std::vector<Observation> stored_observations(const CommonOptions& opts);
// estimate --accuracy: the step time model's error on the store's runs, per model and system,
// each run judged by a calibration fitted without it.
int cmd_estimate_accuracy(const StoreLocation& where, bool json);
int cmd_index(const StoreLocation& where, const std::vector<std::string>& dirs,
              const std::string& system_name);
int cmd_history(const HistoryOptions& opts);
int cmd_compare(const CompareOptionsCli& opts);
// The store path for `where`; throws Error when none can be determined.
std::filesystem::path resolve_store_path(const StoreLocation& where);
// The store a user named: --store (`store`), else $BENCHPILOT_STORE; none when neither is set.
// Every command that touches the store starts from it (`run` then falls back to the system's
// output_path, the others to --system-config's), so `run` records where `estimate` reads.
std::optional<std::filesystem::path> named_store_path(const std::string& store);
// benchpilot resume DIR: continues the campaign in DIR with the inputs its journal names;
// `extra` carries the flags given to resume itself (store, regression gate, install check).
int cmd_resume(const std::string& results_dir, const CommonOptions& extra);
enum class InstallAction { kInstall, kUninstall };
int cmd_install(const CommonOptions& opts, InstallAction action);
int cmd_generate_report(const CommonOptions& opts, const std::string& result_dir);
int cmd_verify_configs(const std::string& dir, const std::string& tests_dir, bool strict);
int cmd_list(const std::string& what, bool verbose);

}  // namespace bp
