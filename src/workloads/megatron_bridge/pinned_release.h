// Which Megatron-Bridge release a test pins, as far as the sweep rules need it: C18's
// DeepSeek-V3 (pp, vp) pairs and the catalog's auto_layout_pairs follow the pinned recipes,
// which changed between v0.3.0 and v0.6.0 (constraints.cc). Known tags and their commits are
// built in; any other pin is placed by its installed clone once benchpilot has read it
// (check_pinned_launcher), else it is unknown and the rules keep CloudAI's lists.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/test_definition.h"

namespace bp::mbridge {

// Values are stored in a constraint slot.
enum class RecipeEra : int {
  kUnknown = 0,
  kV0_3 = 1,  // scripts/performance/configs/ (v0.3.x): CloudAI's rules were written for it
  kV0_6 = 2,  // flat perf recipes, src/megatron/bridge/perf_recipes/ (v0.6.0 and later)
};

// "v0.3.0", "v0.3.1", "v0.6.0" or the full commit of one of them; kUnknown otherwise.
RecipeEra era_of_commit(std::string_view commit);

// From a clone's files: perf_recipes/ -> kV0_6, scripts/performance/configs/ -> kV0_3.
RecipeEra era_of_clone(const std::filesystem::path& clone);

// Records what a clone of `commit` showed, for pinned_era (process-wide, thread-safe).
void remember_clone_era(std::string_view commit, RecipeEra era);

// The era of the test's Megatron-Bridge pin: a clone read for that commit, else a known tag.
RecipeEra pinned_era(const TestDefinition& test);

// For messages: "the pinned v0.6 recipes", "CloudAI's list, for the pinned v0.3 recipes", ...
std::string_view era_description(RecipeEra era);

}  // namespace bp::mbridge
