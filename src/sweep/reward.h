// CloudAI's reward functions: how an observation (the agent_metrics values of a finished point)
// becomes the number an agent maximizes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bp {

using RewardFunction = double (*)(const std::vector<double>& observation);

// inverse: 1/obs[0] (0.0 when empty or zero); negative: -obs[0]; identity: obs[0]
// (both 0.0 when empty). nullptr for an unknown name.
RewardFunction find_reward_function(std::string_view name);
std::vector<std::string> reward_function_names();

}  // namespace bp
