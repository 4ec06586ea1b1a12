// Loading the three config files named on the command line, shared by the subcommands.
#pragma once

#include <filesystem>
#include <vector>

#include "cli/commands.h"
#include "core/install.h"
#include "core/run_record.h"
#include "core/scenario.h"
#include "core/system.h"

namespace bp {

struct LoadedConfig {
  System system;
  std::vector<TestDefinition> tests;
  Scenario scenario;
};

// Loads system, tests and scenario; applies --output-dir. Throws ConfigError.
LoadedConfig load_config(const CommonOptions& opts);

// Everything the scenario's tests need installed, without duplicates.
std::vector<Installable> scenario_installables(const LoadedConfig& c);

// report.html and results.xml (or --junit) for a results folder; plans give planned GPU-hours
// and rule names (computed here when empty). False, with the error logged, when the file named by
// --junit could not be written: the command then exits kExitOutputFailed (util/error.h).
bool write_result_reports(const LoadedConfig& c, const CommonOptions& opts,
                          const std::filesystem::path& root, const std::vector<RunRecord>& records);

}  // namespace bp
