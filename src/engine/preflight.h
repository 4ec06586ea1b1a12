// Every check made before a scenario writes, installs or submits anything, in one place: what
// `run` and `dry-run` refuse up front, what `plan` checks of the same cases, and what the engine
// itself requires of a scenario. Each throws a ConfigError naming the file, line and case.
#pragma once

#include <functional>

#include "core/scenario.h"
#include "core/system.h"

namespace bp {

// Calls `check` with every test of the scenario, hooks' included.
void for_each_test(const Scenario& scenario, const std::function<void(const TestRun&)>& check);

// Before anything is installed or written: each workload's own checks (its token, its fields),
// then check_cases.
void preflight(const System& system, const Scenario& scenario);

// What the workloads can check only against the installed software (the pinned launcher's
// flags), after installing and before the first submission.
void check_installed_workloads(const System& system, const Scenario& scenario);

// Checks that need system, tests and scenario together: every case that is not a sweep obeys its
// workload's constraint rules (a sweep prunes breaking points; a single case is refused with the
// rule), and num_nodes fits the default partition when the system lists its nodes.
void check_cases(const System& system, const Scenario& scenario);

// Whether a workload the system's scheduler cannot run is refused or only warned about.
enum class UnsupportedWorkloads { kRefuse, kWarnAndGenerate };

// What the engine needs of a scenario: a self-submitting workload only on a scheduler that runs
// such workloads (kWarnAndGenerate: a warning, for dry-run), and no swept case with dependencies
// (its points run in parallel).
void check_engine_can_run(const System& system, const Scenario& scenario,
                          UnsupportedWorkloads unsupported);

}  // namespace bp
