// One function per subcommand; cli.cc parses the command line and calls them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

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
  bool allow_large = false;  // --allow-large: lift the limits of cli/limits.h
};

int cmd_run(const CommonOptions& opts, bool dry_run);
int cmd_plan(const CommonOptions& opts);
int cmd_install(const CommonOptions& opts, bool uninstall);
int cmd_generate_report(const CommonOptions& opts, const std::string& result_dir);
int cmd_verify_configs(const std::string& dir, const std::string& tests_dir);
int cmd_list(const std::string& what, bool verbose);

}  // namespace bp
