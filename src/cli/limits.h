// Work a command refuses unless the user confirms with --allow-large: a typo such as
// `iterations = 1000000000` or a 10^7-point sweep must not write hundreds of thousands of
// folders or book millions of GPU-hours. Each limit is written once, here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/scenario.h"
#include "sweep/plan.h"

namespace bp {

struct WorkLimits {
  uint64_t points_per_case = 1000000;  // sweep points walked (plan, dry-run, run)
  uint64_t jobs = 2000;                // jobs, i.e. run folders, over the whole scenario
  double gpu_hours = 100000;           // GPU-hours booked over the whole scenario
  int iterations = 1000;               // iterations of one case
};

inline constexpr const char* kAllowLargeFlag = "--allow-large";

// Refuses (ConfigError at the case) a sweep with more points than the limit, before anything
// walks it. Used by plan, dry-run and run.
void check_sweep_sizes(const Scenario& scenario, const WorkLimits& limits);

// The limits the plans exceed, one sentence each; empty when none.
std::vector<std::string> exceeded_limits(const Scenario& scenario, const std::vector<Plan>& plans,
                                         const WorkLimits& limits);

}  // namespace bp
