// The sweep driver: runs one case's points through an agent (grid, random, adaptive), prunes
// invalid points before they cost anything, and writes trajectory.csv, pruned.csv and the best
// configuration into the case directory.
//
// Step numbers are point numbers (1..N in ParamSpace order), whatever the agent, so a point's
// directory <case>/<iteration>/<step>/ is the same for every agent and every rerun.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/reward.h"
#include "core/scenario.h"
#include "core/system.h"
#include "sweep/point_runner.h"

namespace bp {

class Estimator;  // core/estimate.h

// Points a non-grid agent runs when agent_steps is not set.
constexpr uint64_t kDefaultAgentBudget = 20;
// Non-grid agents stop after this many proposals per budgeted point (pruned proposals and cache
// hits cost nothing, but a space where almost everything is pruned must still end).
constexpr uint64_t kProposalsPerBudgetedPoint = 1000;

struct SweepSettings {
  std::string agent = "grid_search";
  // Points to run (jobs started; pruned points and cache hits do not count). grid_search runs
  // every valid point unless agent_steps is set; other agents default to kDefaultAgentBudget.
  std::optional<uint64_t> budget;
  uint64_t seed = 42;                    // agent_config.random_seed
  double constraint_failure = -1.0;      // agent_config.rewards.constraint_failure
  double metric_failure = -1.0;          // agent_config.rewards.metric_failure
  std::optional<int64_t> max_in_flight;  // agent_config.max_in_flight (the runner applies it)
  std::vector<std::string> metrics = {"default"};
  std::string reward_function{kDefaultRewardFunction};
  RewardFunction reward = nullptr;
};

// Reads agent, agent_steps, agent_config, agent_metrics and agent_reward_function. Throws
// ConfigError (file, line, key, what is expected) for unknown agents, reward functions, metrics
// or agent_config keys.
SweepSettings read_sweep_settings(const TestRun& run);

// Whether the case has list values to sweep (cmd_args, extra_env_vars, num_nodes).
bool is_sweep(const TestRun& run);

// Runs the case's sweep for the runner's iteration. Returns 0 when the sweep ran (points may
// have failed), 1 when no point could run. Throws ConfigError for bad settings.
int run_sweep(const TestRun& run, const System& system, PointRunner& runner);
// The same with the estimator model_guided ranks by given (the case's workload's above; null:
// model_guided is refused with a ConfigError).
int run_sweep(const TestRun& run, const System& system, PointRunner& runner,
              const Estimator* estimator);

}  // namespace bp
