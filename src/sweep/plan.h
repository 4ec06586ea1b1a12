// What a scenario will cost before anything is submitted: per case the sweep points, how many
// the constraints prune and why, the jobs, GPUs per job and the GPU-hour budget from the time
// limits. `benchpilot plan` and dry-run print it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/scenario.h"
#include "core/system.h"
#include "sweep/prune_log.h"

namespace bp {

struct Plan {
  std::string case_id;
  std::string workload;
  bool is_sweep = false;
  std::string agent;        // sweep agent; empty for a plain case
  std::string budget_note;  // how the agent limits the jobs, e.g. "agent_steps=10"
  uint64_t points = 1;
  uint64_t valid = 1;
  uint64_t pruned = 0;
  std::vector<RuleTally> pruned_by_rule;
  // Points that run but that a warning rule flags (near the GPU's memory), counts and examples.
  uint64_t warned = 0;
  std::vector<RuleTally> warned_by_rule;
  int iterations = 1;
  uint64_t jobs = 1;  // jobs over all iterations
  int64_t gpus_per_job_min = 0;
  int64_t gpus_per_job_max = 0;
  std::optional<std::string> time_limit;
  std::optional<double> gpu_hours;   // unset when the case has no time limit
  bool gpu_hours_estimated = false;  // agent picks an unknown subset: mean GPUs x jobs
};

// Walks the case's whole space once (no Value per point). GPUs per job as the workload's
// gpu_count() says: a cmd_args field with its default, else num_nodes x system.gpus_per_node
// (1 if unset).
// Throws ConfigError for bad sweep settings or values.
Plan make_plan(const TestRun& run, const System& system);

// "HH:MM:SS" or "D-HH:MM:SS" in hours; nullopt when it cannot be read.
std::optional<double> time_limit_hours(const std::string& time_limit);

// A table of the cases, the pruning summary of each sweep (counts per rule and examples) and
// the totals.
std::string format_plan(const std::vector<Plan>& plans);

}  // namespace bp
