// The sweep driver: runs one case's points through an agent (grid, random, adaptive), prunes
// invalid points before they cost anything, and writes trajectory.csv, pruned.csv and the best
// configuration into the case directory.
#pragma once

#include "core/scenario.h"
#include "core/system.h"
#include "sweep/point_runner.h"

namespace bp {

// Whether the case has list values to sweep (cmd_args, extra_env_vars, num_nodes).
bool is_sweep(const TestRun& run);

// Runs the case's sweep for the runner's iteration. Returns 0, or non-zero when the sweep could
// not run. Throws ConfigError for bad agent settings.
int run_sweep(const TestRun& run, const System& system, PointRunner& runner);

}  // namespace bp
