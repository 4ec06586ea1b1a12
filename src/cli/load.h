// Loading the three config files named on the command line, shared by the subcommands.
#pragma once

#include <vector>

#include "cli/commands.h"
#include "core/install.h"
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

}  // namespace bp
