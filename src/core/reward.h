// CloudAI's reward functions: how an observation (the agent_metrics values of a finished point)
// becomes the number an agent maximizes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bp {

using RewardFunction = double (*)(const std::vector<double>& observation);

// agent_reward_function when a test does not name one (CloudAI's default).
inline constexpr std::string_view kDefaultRewardFunction = "inverse";

// inverse: 1/obs[0] (0.0 when empty or zero); negative: -obs[0]; identity: obs[0]
// (both 0.0 when empty). nullptr for an unknown name.
RewardFunction find_reward_function(std::string_view name);
std::vector<std::string> reward_function_names();

// The reward of a finished run: the values of `agent_metrics` (its observation) through the
// named reward function (kDefaultRewardFunction when empty), as a sweep scores a point.
// nullopt when a metric is missing or the function is unknown.
std::optional<double> run_reward(const std::vector<std::string>& agent_metrics,
                                 std::string_view reward_function,
                                 const std::map<std::string, double>& metrics);

// The best run of a case is the passing run with the highest reward, the first of equals: the
// results table's '*', the sweep's best point and <case>.toml follow this one rule. True when a
// passing run with `reward` replaces the best so far (`best_reward`, nullopt before the first).
inline bool beats_best_run(double reward, std::optional<double> best_reward) {
  return !best_reward || reward > *best_reward;
}

}  // namespace bp
