#include "core/reward.h"

namespace bp {

namespace {

double inverse(const std::vector<double>& obs) {
  if (obs.empty() || obs[0] == 0) return 0.0;
  return 1.0 / obs[0];
}
double negative(const std::vector<double>& obs) {
  return obs.empty() ? 0.0 : -obs[0];
}
double identity(const std::vector<double>& obs) {
  return obs.empty() ? 0.0 : obs[0];
}

struct Entry {
  const char* name;
  RewardFunction fn;
};
constexpr Entry kFunctions[] = {
    {"inverse", inverse}, {"negative", negative}, {"identity", identity}};

}  // namespace

RewardFunction find_reward_function(std::string_view name) {
  for (const Entry& e : kFunctions)
    if (name == e.name) return e.fn;
  return nullptr;
}

std::vector<std::string> reward_function_names() {
  std::vector<std::string> out;
  for (const Entry& e : kFunctions) out.emplace_back(e.name);
  return out;
}

std::optional<double> run_reward(const std::vector<std::string>& agent_metrics,
                                 std::string_view reward_function,
                                 const std::map<std::string, double>& metrics) {
  RewardFunction fn =
      find_reward_function(reward_function.empty() ? kDefaultRewardFunction : reward_function);
  if (!fn) return std::nullopt;
  std::vector<double> observation;
  for (const std::string& m :
       agent_metrics.empty() ? std::vector<std::string>{"default"} : agent_metrics) {
    auto it = metrics.find(m);
    if (it == metrics.end()) return std::nullopt;
    observation.push_back(it->second);
  }
  return fn(observation);
}

}  // namespace bp
