#include "workloads/megatron_bridge/pinned_release.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/system.h"
#include "testkit/testkit.h"
#include "workloads/megatron_bridge/mbridge_test_helpers.h"
#include "workloads/megatron_bridge/workload.h"

namespace bp::mbridge {
namespace {

namespace fs = std::filesystem;

TestDefinition pinned_to(const std::string& commit) {
  return testing::test_from_toml(
      "name = \"mb\"\n[[git_repos]]\nurl = \"https://github.com/NVIDIA-NeMo/Megatron-Bridge.git\"\n"
      "commit = \"" +
      commit +
      "\"\n[cmd_args]\nmodel_family_name = \"deepseek\"\nmodel_recipe_name = \"deepseek_v3\"\n");
}

TEST(PinnedRelease, KnownTagsAndTheirCommitsAreBuiltIn) {
  EXPECT_EQ(era_of_commit("v0.6.0"), RecipeEra::kV0_6);
  EXPECT_EQ(era_of_commit("51885CF132B2814188B6855C25A8588254274C2A"), RecipeEra::kV0_6);
  EXPECT_EQ(era_of_commit(" v0.3.0 "), RecipeEra::kV0_3);
  EXPECT_EQ(era_of_commit("9c9dd848966322fc3ed7706747ec13219ef49dda"), RecipeEra::kV0_3);
  // Not built in: a branch, a release without a known era, a short hash.
  EXPECT_EQ(era_of_commit("main"), RecipeEra::kUnknown);
  EXPECT_EQ(era_of_commit("v0.5.1"), RecipeEra::kUnknown);
  EXPECT_EQ(era_of_commit("51885cf"), RecipeEra::kUnknown);
  EXPECT_EQ(pinned_era(pinned_to("v0.6.0")), RecipeEra::kV0_6);
  EXPECT_EQ(pinned_era(TestDefinition{}), RecipeEra::kUnknown);  // no Megatron-Bridge repo
}

TEST(PinnedRelease, AClonesLayoutTellsItsEra) {
  testkit::TempDir dir;
  fs::create_directories(dir / "new/src/megatron/bridge/perf_recipes/deepseek");
  fs::create_directories(dir / "old/scripts/performance/configs/deepseek");
  fs::create_directories(dir / "bare");
  EXPECT_EQ(era_of_clone(dir / "new"), RecipeEra::kV0_6);
  EXPECT_EQ(era_of_clone(dir / "old"), RecipeEra::kV0_3);
  EXPECT_EQ(era_of_clone(dir / "bare"), RecipeEra::kUnknown);
  EXPECT_EQ(era_of_clone(dir / "missing"), RecipeEra::kUnknown);
}

TEST(PinnedRelease, AnInstalledCloneOfAnUnknownCommitIsReadByThePreflight) {
  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  TestDefinition test = pinned_to(commit);
  EXPECT_EQ(pinned_era(test), RecipeEra::kUnknown);  // not installed: today's behaviour

  testkit::TempDir dir;
  System system;
  system.install_path = dir.path();
  fs::create_directories(dir / ("Megatron-Bridge__" + commit) / "src/megatron/bridge/perf_recipes");
  check_pinned_launcher(test, system);  // no argument_parser.py: flags unchecked, era read
  EXPECT_EQ(pinned_era(test), RecipeEra::kV0_6);
}

TEST(PinnedRelease, ARememberedCloneWinsOverTheTagName) {
  // A clone is what runs: a pin named like a known tag but holding other files follows them.
  remember_clone_era("v0.3.1", RecipeEra::kV0_6);
  EXPECT_EQ(pinned_era(pinned_to("v0.3.1")), RecipeEra::kV0_6);
  remember_clone_era("v0.3.1", RecipeEra::kUnknown);  // an unreadable clone does not override
  EXPECT_EQ(pinned_era(pinned_to("v0.3.1")), RecipeEra::kV0_3);
}

}  // namespace
}  // namespace bp::mbridge
