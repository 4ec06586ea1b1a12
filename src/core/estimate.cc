#include "core/estimate.h"

#include <fmt/format.h>

namespace bp {

std::optional<OomRule> parse_oom_rule(std::string_view text) {
  if (text == "prune") return OomRule::kPrune;
  if (text == "warn") return OomRule::kWarn;
  if (text == "off") return OomRule::kOff;
  return std::nullopt;
}

MemoryVerdict judge_memory(double total_gib, double gpu_gib, OomRule rule) {
  MemoryVerdict v;
  if (rule == OomRule::kOff || gpu_gib <= 0) return v;
  v.over = total_gib > kOomPruneAbove * gpu_gib;
  v.near_limit = !v.over && total_gib >= kNearLimitFrom * gpu_gib;
  v.fits = !(v.over && rule == OomRule::kPrune);
  // A clear case that only warns is still near (beyond) the limit for the reader.
  if (v.over && rule == OomRule::kWarn) v.near_limit = true;
  return v;
}

std::string describe_memory(const MemoryEstimate& m, double gpu_gib) {
  return fmt::format(
      "needs {:.1f} GiB of {:.1f} GiB: weights {:.1f}, gradients {:.1f}, optimizer {:.1f}, "
      "activations {:.1f}, other {:.1f}",
      m.total(), gpu_gib, m.weights, m.gradients, m.optimizer, m.activations, m.other);
}

}  // namespace bp
