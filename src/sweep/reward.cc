#include "sweep/reward.h"

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

}  // namespace bp
