#include "workloads/megatron_bridge/pinned_release.h"

#include <map>
#include <mutex>
#include <string>

#include "util/strings.h"
#include "workloads/megatron_bridge/validate.h"

namespace bp::mbridge {

namespace {

struct KnownPin {
  std::string_view tag;
  std::string_view commit;
  RecipeEra era;
};
// github.com/NVIDIA-NeMo/Megatron-Bridge tags.
constexpr KnownPin kKnownPins[] = {
    {"v0.3.0", "21b02e0cfb2f8ff907e0d8baee0c5205876c6812", RecipeEra::kV0_3},
    {"v0.3.1", "9c9dd848966322fc3ed7706747ec13219ef49dda", RecipeEra::kV0_3},
    {"v0.6.0", "51885cf132b2814188b6855c25a8588254274c2a", RecipeEra::kV0_6},
};

std::mutex g_clones_mu;
std::map<std::string, RecipeEra, std::less<>> g_clones;

}  // namespace

RecipeEra era_of_commit(std::string_view commit) {
  std::string_view pin = trim(commit);
  for (const KnownPin& k : kKnownPins)
    if (pin == k.tag || to_lower(pin) == k.commit) return k.era;
  return RecipeEra::kUnknown;
}

RecipeEra era_of_clone(const std::filesystem::path& clone) {
  std::error_code ec;
  if (std::filesystem::is_directory(clone / "src/megatron/bridge/perf_recipes", ec))
    return RecipeEra::kV0_6;
  if (std::filesystem::is_directory(clone / "scripts/performance/configs", ec))
    return RecipeEra::kV0_3;
  return RecipeEra::kUnknown;
}

void remember_clone_era(std::string_view commit, RecipeEra era) {
  std::lock_guard<std::mutex> lock(g_clones_mu);
  g_clones[std::string(trim(commit))] = era;
}

RecipeEra pinned_era(const TestDefinition& test) {
  const GitRepo* repo = find_mbridge_repo(test);
  if (!repo) return RecipeEra::kUnknown;
  {
    std::lock_guard<std::mutex> lock(g_clones_mu);
    auto it = g_clones.find(trim(repo->commit));
    if (it != g_clones.end() && it->second != RecipeEra::kUnknown) return it->second;
  }
  return era_of_commit(repo->commit);
}

std::string_view era_description(RecipeEra era) {
  switch (era) {
    case RecipeEra::kV0_6:
      return "the pinned v0.6 recipes";
    case RecipeEra::kV0_3:
      return "CloudAI's list, for the pinned v0.3 recipes";
    case RecipeEra::kUnknown:
      break;
  }
  return "CloudAI's list: the pinned release is unknown";
}

}  // namespace bp::mbridge
