#include "workloads/megatron_bridge/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <optional>

#include "testkit/testkit.h"
#include "util/error.h"
#include "util/log.h"
#include "workloads/megatron_bridge/args.h"
#include "workloads/megatron_bridge/mbridge_test_helpers.h"

namespace bp::mbridge {
namespace {

using ::testing::HasSubstr;
using testing::test_from_toml;
using testing::test_with_args;

// The message of the ConfigError that validate throws, or "" when it passes.
std::string validation_error(const TestDefinition& t) {
  try {
    validate(t);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(MbridgeArgs, SchemaKeepsDeclarationOrderAndFlags) {
  std::vector<std::string> names = arg_names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "gpu_type");
  EXPECT_EQ(names.back(), "list_config_variants");
  auto pos = [&](const std::string& n) { return std::find(names.begin(), names.end(), n); };
  EXPECT_LT(pos("tp"), pos("pp"));
  EXPECT_LT(pos("use_tokendrop"), pos("tp"));
  EXPECT_LT(pos("seq_length"), pos("lr"));
  ASSERT_NE(find_arg("tp"), nullptr);
  EXPECT_TRUE(find_arg("tp")->sweepable);
  EXPECT_EQ(find_arg("tp")->flag, "-tp");
  EXPECT_EQ(find_arg("seq_length")->flag, "-sl");
  EXPECT_FALSE(find_arg("max_steps")->sweepable);
  EXPECT_EQ(find_arg("max_steps")->default_value.as_int(), 10);
  EXPECT_EQ(find_arg("num_gpus")->default_value.as_int(), 8);
  EXPECT_EQ(find_arg("save_config_filepath")->default_value.as_string(),
            "/nemo_run/configs/ConfigContainer.yaml");
  EXPECT_TRUE(find_arg("dryrun")->bare_flag);
  EXPECT_EQ(find_arg("profiling_ranks")->type, ArgType::kRanks);
  EXPECT_EQ(find_arg("no_such_field"), nullptr);
}

TEST(MbridgeValidate, AcceptsAValidTestWithSweeps) {
  TestDefinition t = test_with_args(
      "tp = [1, 2]\nlr = [1, 0.5]\nmax_steps = 20\nuse_tokendrop = [true, false]\n"
      "cuda_graph_scope = \"[moe_router,moe_preprocess]\"\nprofiling_ranks = [0, 1]\n"
      "min_lr = 3\nenable_vboost = true\n");
  EXPECT_EQ(validation_error(t), "");
}

TEST(MbridgeValidate, RejectsWrongScalarTypeWithFileLineAndKey) {
  TestDefinition t = test_with_args("tp = \"x\"\n");
  std::string err = validation_error(t);
  EXPECT_THAT(err, HasSubstr("test.toml:"));
  EXPECT_THAT(err, HasSubstr("cmd_args.tp"));
  EXPECT_THAT(err, HasSubstr("expected an integer or a list of integers, got string \"x\""));
}

TEST(MbridgeValidate, ErrorPointsAtTheLineOfTheValue) {
  TestDefinition t = test_with_args("max_steps = 1.5\n");
  std::string err = validation_error(t);
  // [cmd_args] starts after the repo lines; the bad value is the last line of the file.
  EXPECT_THAT(err, HasSubstr("test.toml:10: cmd_args.max_steps: expected an integer, got float"));
}

TEST(MbridgeValidate, RejectsListForFieldThatCannotSweep) {
  std::string err = validation_error(test_with_args("max_steps = [10, 20]\n"));
  EXPECT_THAT(err, HasSubstr("cmd_args.max_steps"));
  EXPECT_THAT(err, HasSubstr("got a list"));
}

TEST(MbridgeValidate, RejectsBadListItemAndEmptyList) {
  EXPECT_THAT(validation_error(test_with_args("pp = [1, \"two\"]\n")),
              HasSubstr("cmd_args.pp: expected an integer or a list of integers, got a list "
                        "containing string \"two\""));
  EXPECT_THAT(validation_error(test_with_args("pp = []\n")), HasSubstr("empty list"));
}

TEST(MbridgeValidate, BooleansStringsAndFloats) {
  EXPECT_THAT(validation_error(test_with_args("enable_vboost = \"yes\"\n")),
              HasSubstr("cmd_args.enable_vboost: expected a boolean"));
  EXPECT_THAT(validation_error(test_with_args("gpu_type = 8\n")),
              HasSubstr("cmd_args.gpu_type: expected a string, got integer 8"));
  EXPECT_THAT(validation_error(test_with_args("lr = \"fast\"\n")),
              HasSubstr("cmd_args.lr: expected a number or a list of numbers"));
}

// The constraint rules lower-case scope and module names, the launcher gets the text as
// written, so "MLP" is refused with the spelling to use (one decision, in validate).
TEST(MbridgeValidate, ScopeAndRecomputeNamesMustBeLowerCase) {
  EXPECT_THAT(validation_error(test_with_args("cuda_graph_scope = \"MLP\"\n")),
              HasSubstr("test.toml:10: cmd_args.cuda_graph_scope: expected lower-case names "
                        "(Megatron's spelling), got \"MLP\"; write \"mlp\""));
  EXPECT_THAT(validation_error(test_with_args("cuda_graph_scope = [\"attn\", \"moe_Router\"]\n")),
              HasSubstr("got \"moe_Router\"; write \"moe_router\""));
  EXPECT_THAT(
      validation_error(test_with_args("recompute_modules = \"moe_router, MOE_PREPROCESS\"\n")),
      HasSubstr("cmd_args.recompute_modules: expected lower-case names"));
  EXPECT_EQ(validation_error(test_with_args("cuda_graph_scope = \"[attn, 'mlp']\"\n"
                                            "recompute_modules = [\"core_attn\"]\n")),
            "");
}

TEST(MbridgeValidate, ProfilingRanksForms) {
  EXPECT_EQ(validation_error(test_with_args("profiling_ranks = 0\n")), "");
  EXPECT_EQ(validation_error(test_with_args("profiling_ranks = \"0,1, 2\"\n")), "");
  EXPECT_EQ(validation_error(test_with_args("profiling_ranks = [0, 1, 2, 3]\n")), "");
  EXPECT_THAT(validation_error(test_with_args("profiling_ranks = \"0,a\"\n")),
              HasSubstr("cmd_args.profiling_ranks"));
  // CloudAI's List[int] reads "0" as 0 (pydantic's lax int); "a" is no integer.
  EXPECT_EQ(validation_error(test_with_args("profiling_ranks = [\"0\"]\n")), "");
  EXPECT_THAT(validation_error(test_with_args("profiling_ranks = [\"a\"]\n")),
              HasSubstr("cmd_args.profiling_ranks"));
}

// CloudAI types tp as Optional[Union[int, List[int]]], so pydantic's lax int takes
// tp = "2"; benchpilot used to refuse it. Ranges apply to the integer read.
TEST(MbridgeValidate, IntegersFollowTheOneRule) {
  for (const char* ok : {"tp = \"2\"\n", "tp = \" +2 \"\n", "tp = 2.0\n", "tp = [1, \"2\"]\n",
                         "max_steps = \"1_000\"\n"})
    EXPECT_EQ(validation_error(test_with_args(ok)), "") << ok;
  EXPECT_THAT(validation_error(test_with_args("tp = \"0\"\n")),
              HasSubstr("cmd_args.tp: expected an integer from 1 to 65536, got 0"));
  EXPECT_THAT(validation_error(test_with_args("tp = 2.5\n")),
              HasSubstr("cmd_args.tp: expected an integer or a list of integers, got float 2.5"));
  EXPECT_THAT(validation_error(test_with_args("tp = \"1e3\"\n")),
              HasSubstr("cmd_args.tp: expected an integer or a list of integers"));
}

TEST(MbridgeValidate, UnknownKeysAndGpusPerNodeOnlyWarn) {
  int before = log::warning_count();
  EXPECT_EQ(validation_error(test_with_args("custom_thing = 1\ngpus_per_node = 4\n")), "");
  EXPECT_EQ(log::warning_count(), before + 2);
}

TEST(MbridgeValidate, ModelNamesMustNotBeBlank) {
  TestDefinition t = test_with_args("");
  t.cmd_args.set("model_family_name", Value::string("  ", SourceLoc{"test.toml", 7}));
  EXPECT_THAT(validation_error(t),
              HasSubstr("test.toml:7: cmd_args.model_family_name: cannot be empty"));
  t = test_with_args("");
  t.cmd_args.erase("model_recipe_name");
  std::string err = validation_error(t);
  EXPECT_THAT(err, HasSubstr("test.toml"));
  EXPECT_THAT(err, HasSubstr("cmd_args.model_recipe_name: cannot be empty"));
}

TEST(MbridgeValidate, GitReposMustHoldPinnedMegatronBridge) {
  const char* args = "\n[cmd_args]\nmodel_family_name = \"q\"\nmodel_recipe_name = \"r\"\n";
  std::string err = validation_error(test_from_toml(std::string("name = \"mb\"\n") + args));
  EXPECT_THAT(err, HasSubstr("test.toml:1: git_repos:"));
  EXPECT_THAT(err, HasSubstr("[[git_repos]]"));
  EXPECT_THAT(err, HasSubstr("commit = "));

  err = validation_error(test_from_toml(std::string("[[git_repos]]\nurl = \"https://x/Other.git\"\n"
                                                    "commit = \"main\"\n") +
                                        args));
  EXPECT_THAT(err, HasSubstr("Megatron-Bridge"));

  err = validation_error(
      test_from_toml(std::string("[[git_repos]]\nurl = "
                                 "\"https://github.com/NVIDIA-NeMo/Megatron-Bridge.git\"\n"
                                 "commit = \"\"\n") +
                     args));
  EXPECT_THAT(err, HasSubstr("test.toml:1: git_repos.commit:"));
  EXPECT_THAT(err, HasSubstr("non-empty commit"));

  // A fork found through its mount point.
  EXPECT_EQ(
      validation_error(test_from_toml(std::string("[[git_repos]]\nurl = \"file:///srv/mb-fork\"\n"
                                                  "commit = \"abc\"\nmount_as = "
                                                  "\"/opt/Megatron-Bridge/\"\n") +
                                      args)),
      "");
}

TEST(MbridgePreflight, TokenFromCmdArgsOrEnvironment) {
  {
    testkit::ScopedEnv env("HF_TOKEN", std::nullopt);
    TestDefinition t = test_with_args("hf_token = \"  hf_abc  \"\n");
    EXPECT_EQ(resolve_hf_token(t), "hf_abc");
    EXPECT_NO_THROW(preflight(t));
  }
  {
    testkit::ScopedEnv env("HF_TOKEN", " hf_env \n");
    TestDefinition t = test_with_args("hf_token = \"\"\n");
    EXPECT_EQ(resolve_hf_token(t), "hf_env");
    EXPECT_NO_THROW(preflight(t));
  }
}

TEST(MbridgePreflight, MissingTokenSaysHowToProvideIt) {
  testkit::ScopedEnv env("HF_TOKEN", std::nullopt);
  for (const char* args : {"", "hf_token = \"   \"\n"}) {
    TestDefinition t = test_with_args(args);
    try {
      preflight(t);
      FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr("test.toml"));
      EXPECT_THAT(e.what(), HasSubstr("cmd_args.hf_token"));
      EXPECT_THAT(e.what(), HasSubstr("export HF_TOKEN"));
    }
  }
}

}  // namespace
}  // namespace bp::mbridge
