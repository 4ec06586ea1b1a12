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

// inverse: 1/obs[0] (0.0 when empty or zero); negative: -obs[0]; identity: obs[0]
// (both 0.0 when empty). nullptr for an unknown name.
RewardFunction find_reward_function(std::string_view name);
std::vector<std::string> reward_function_names();

// The reward of a finished run: the values of `agent_metrics` (its observation) through the
// named reward function, as a sweep scores a point. nullopt when a metric is missing or the
// function is unknown. The best run of a case is the passing run with the highest reward: the
// results table's '*', the sweep's best point and <case>.toml follow this one rule.
std::optional<double> run_reward(const std::vector<std::string>& agent_metrics,
                                 std::string_view reward_function,
                                 const std::map<std::string, double>& metrics);

}  // namespace bp
