// The engine's internals, shared by its files (engine.cc: a scenario from start to end;
// job_loop.h: the JobLoop (job_loop.cc: prepare, submit, poll, judge, cancel; hooks.cc: pre- and
// post-tests); plain_cases.cc: cases that are not sweeps, with their dependencies;
// sweep_runner.cc: the points of a sweep). Not for use outside src/engine/.
#pragma once

#include <filesystem>
#include <vector>

#include "core/run_record.h"
#include "core/scenario.h"
#include "core/system.h"
#include "core/workload.h"

namespace bp {

namespace fs = std::filesystem;

class JobLoop;

// Thrown when a stop was requested, to unwind out of sweeps.
struct Interrupted {};

// The workload of a case; a ConfigError naming the case when it is unknown.
const Workload& workload_of(const TestRun& run);

// The case's node count (its first, when num_nodes is a list); 1 when unset.
int first_num_nodes(const TestRun& run);

// A run that was judged and did not pass: not one that was never submitted (dry-run).
bool judged_failed(const RunRecord& r);

// Runs the cases that are not sweeps (plain_cases.cc): iterations, dependencies and, when
// job_status_check is set, stopping everything at the first failure; true when it did.
bool run_plain_cases(JobLoop& loop, bool job_status_check,
                     const std::vector<const TestRun*>& cases);

// Runs every iteration of a swept case (sweep_runner.cc); the sweep driver's exit code (0 when
// all went well).
int run_sweep_case(JobLoop& loop, const System& system, const TestRun& run, int max_in_flight);

}  // namespace bp
