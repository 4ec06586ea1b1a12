#include "workloads/megatron_bridge/launcher_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "testkit/testkit.h"
#include "util/error.h"
#include "workloads/megatron_bridge/args.h"
#include "workloads/megatron_bridge/mbridge_test_helpers.h"
#include "workloads/megatron_bridge/workload.h"

namespace bp::mbridge {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::test_with_args;

// Excerpts written in the style of Megatron-Bridge's scripts/performance/argument_parser.py:
// multi-line calls, help texts with commas and parentheses, choices as literals and as names.
constexpr const char* kV03Parser = R"PY(
import argparse

VALID_CUDA_GRAPH_IMPLS = ["none", "local", "transformer_engine"]


def bool_arg(arg):
    """Convert a string CLI value to a boolean (true, false)."""
    return arg.lower() in ["true", "1"]


def parse_cli_args():
    parser = argparse.ArgumentParser(description="Megatron-Bridge", argument_default=None)
    parser.add_argument("--domain", type=str, choices=["llm", "vlm"], default="llm")
    parser.add_argument("-m", "--model_family_name", type=str, required=True, help="Model family (e.g. llama)")
    parser.add_argument("-mr", "--model_recipe_name", required=True)
    parser.add_argument("--max_retries", type=int, default=2)
    parser.add_argument("-ng", "--num_gpus", type=int, required=True)
    parser.add_argument("-d", "--dryrun", required=False, action="store_true")
    training_args = parser.add_argument_group("Training arguments")
    training_args.add_argument(
        "--task",
        choices=["pretrain", "sft", "lora"],
        help="Task to run. Defaults to 'pretrain'",  # a comment, with ( and ,
        default="pretrain",
    )
    training_args.add_argument("-ms", "--max_steps", type=int, help="Steps (defaults to 50)")
    tokenizer_args = parser.add_argument_group("Tokenizer arguments")
    tokenizer_args.add_argument("-hf", "--hf_token", type=str, help="HuggingFace token")
    performance_args = parser.add_argument_group("Performance arguments")
    performance_args.add_argument(
        "-g",
        "--gpu",
        type=str,
        choices=["h100", "b200", "gb200", "gb300", "b300"],
        help="Target gpu type.",
        required=True,
    )
    performance_args.add_argument("-c", "--compute_dtype", choices=["bf16", "fp8_cs", "fp8_mx"], default="bf16")
    performance_args.add_argument("-vb", "--enable_vboost", type=bool_arg, required=False)
    performance_args.add_argument("--moe_a2a_overlap", type=bool_arg, required=False)
    performance_args.add_argument(
        "-vp",
        "--virtual_pipeline_model_parallel_size",
        type=lambda x: None if x == "None" else int(x),
        default=-1,
    )
    logging_args = parser.add_argument_group("Logging arguments")
    logging_args.add_argument("--save_config_filepath", type=str, help="Path, e.g. '/x'")
    parser.add_argument("-cv", "--config_variant", type=str, default="v2")
    return parser
)PY";

constexpr const char* kV06Parser = R"PY(
import argparse

NUM_GPUS_PER_NODE_MAP = {
    "h100": 8,
    "b200": 8,
    "b300": 8,
    "gb200": 4,
    "gb300": 4,
    "vr200": 4,
    "r100": 1,
}


def parse_cli_args():
    parser = argparse.ArgumentParser(description="Megatron-Bridge", argument_default=None)
    parser.add_argument("--domain", type=str, choices=["llm", "vlm", "qwen3vl", "diffusion"])
    parser.add_argument("-m", "--model_family_name", required=True)
    parser.add_argument("-mr", "--model_recipe_name", required=True)
    parser.add_argument("--max_retries", type=int, default=2)
    parser.add_argument("-ng", "--num_gpus", type=int, required=True)
    training_args = parser.add_argument_group("Training arguments")
    training_args.add_argument("--task", choices=["pretrain", "sft", "peft"], default="pretrain")
    training_args.add_argument("-ms", "--max_steps", type=int)
    tokenizer_args = parser.add_argument_group("Tokenizer arguments")
    hf_mode = tokenizer_args.add_mutually_exclusive_group()
    hf_mode.add_argument(
        "-hf",
        "--hf_token",
        type=str,
        help="HuggingFace token. Defaults to None.",
    )
    hf_mode.add_argument(
        "--offline",
        action="store_true",
        help="Enable offline HuggingFace Hub mode by setting HF_HUB_OFFLINE=1.",
    )
    performance_args = parser.add_argument_group("Performance arguments")
    performance_args.add_argument(
        "-g",
        "--gpu",
        type=str,
        choices=NUM_GPUS_PER_NODE_MAP.keys(),
        help="Target gpu type.",
        required=True,
    )
    performance_args.add_argument("-c", "--compute_dtype", choices=["bf16", "fp8_cs", "fp8_mx"], default="bf16")
    performance_args.add_argument("-vb", "--enable_vboost", required=False)
    performance_args.add_argument("--moe_a2a_overlap", required=False)
    logging_args = parser.add_argument_group("Logging arguments")
    logging_args.add_argument("--save_config_filepath", type=str)
    return parser
)PY";

TEST(LauncherFlags, ParsesFlagsChoicesAndRequired) {
  LauncherFlagSet v03 = parse_launcher_flags(kV03Parser);
  const LauncherFlag* gpu = v03.find("-g");
  ASSERT_NE(gpu, nullptr);
  EXPECT_THAT(gpu->names, ElementsAre("-g", "--gpu"));
  EXPECT_THAT(gpu->choices, ElementsAre("h100", "b200", "gb200", "gb300", "b300"));
  EXPECT_TRUE(gpu->required);
  EXPECT_EQ(v03.find("--gpu"), gpu);
  EXPECT_THAT(v03.find("--task")->choices, ElementsAre("pretrain", "sft", "lora"));
  EXPECT_FALSE(v03.find("--task")->required);
  EXPECT_NE(v03.find("-vp"), nullptr);  // a lambda type with a comparison inside
  EXPECT_NE(v03.find("--save_config_filepath"), nullptr);
  EXPECT_EQ(v03.find("--offline"), nullptr);
  EXPECT_EQ(v03.find("Training arguments"), nullptr);  // add_argument_group is not a flag

  LauncherFlagSet v06 = parse_launcher_flags(kV06Parser);
  // choices=NUM_GPUS_PER_NODE_MAP.keys() resolves to the dict's keys.
  EXPECT_THAT(v06.find("-g")->choices,
              ElementsAre("h100", "b200", "b300", "gb200", "gb300", "vr200", "r100"));
  EXPECT_NE(v06.find("--offline"), nullptr);  // inside a mutually exclusive group
  EXPECT_NE(v06.find("-hf"), nullptr);
  EXPECT_THAT(v06.find("--task")->choices, ElementsAre("pretrain", "sft", "peft"));
  EXPECT_EQ(v06.find("-cv"), nullptr);
}

std::string error_of(const TestDefinition& t, const char* parser, const char* commit) {
  try {
    check_against_launcher(t, parse_launcher_flags(parser), commit);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(LauncherFlags, DefaultsAndCommonFieldsPassBothVersions) {
  TestDefinition t = test_with_args("gpu_type = \"h100\"\nmax_steps = 20\n");
  EXPECT_EQ(error_of(t, kV03Parser, "v0.3.0"), "");
  EXPECT_EQ(error_of(t, kV06Parser, "v0.6.0"), "");
  // CloudAI's defaults (gb200, bf16, pretrain, -vb false, --moe_a2a_overlap false) exist in both.
  EXPECT_EQ(error_of(test_with_args(""), kV03Parser, "v0.3.0"), "");
  EXPECT_EQ(error_of(test_with_args(""), kV06Parser, "v0.6.0"), "");
}

TEST(LauncherFlags, RefusesWhatThePinnedLauncherLacks) {
  // --offline exists only from v0.6.
  std::string e = error_of(test_with_args("offline = true\n"), kV03Parser, "v0.3.0");
  EXPECT_THAT(e, HasSubstr("test.toml:10: cmd_args.offline"));
  EXPECT_THAT(e, HasSubstr("pinned at commit \"v0.3.0\" has no --offline flag"));
  EXPECT_THAT(e, HasSubstr("v0.6.0 or later"));
  EXPECT_EQ(error_of(test_with_args("offline = true\n"), kV06Parser, "v0.6.0"), "");
  // offline = false sends nothing.
  EXPECT_EQ(error_of(test_with_args("offline = false\n"), kV03Parser, "v0.3.0"), "");

  // task lora <-> peft.
  e = error_of(test_with_args("task = \"lora\"\n"), kV06Parser, "v0.6.0");
  EXPECT_THAT(e, HasSubstr("cmd_args.task: \"lora\" is not accepted by the Megatron-Bridge "
                           "launcher pinned at commit \"v0.6.0\" (--task choices: pretrain, sft, "
                           "peft); this launcher calls LoRA fine-tuning \"peft\": set task = "
                           "\"peft\""));
  e = error_of(test_with_args("task = \"peft\"\n"), kV03Parser, "v0.3.0");
  EXPECT_THAT(e, HasSubstr("set task = \"lora\""));
  EXPECT_EQ(error_of(test_with_args("task = \"lora\"\n"), kV03Parser, "v0.3.0"), "");

  // GPU types new in v0.6.
  e = error_of(test_with_args("gpu_type = \"vr200\"\n"), kV03Parser, "v0.3.0");
  EXPECT_THAT(e, HasSubstr("cmd_args.gpu_type: \"vr200\" is not accepted"));
  EXPECT_THAT(e, HasSubstr("(-g choices: h100, b200, gb200, gb300, b300)"));
  EXPECT_EQ(error_of(test_with_args("gpu_type = \"vr200\"\n"), kV06Parser, "v0.6.0"), "");
  EXPECT_EQ(error_of(test_with_args("gpu_type = \"r100\"\n"), kV06Parser, "v0.6.0"), "");

  // A flag v0.6 dropped from this excerpt: -cv.
  e = error_of(test_with_args("config_variant = \"v1\"\n"), kV06Parser, "abc123");
  EXPECT_THAT(e, HasSubstr("cmd_args.config_variant: the Megatron-Bridge launcher pinned at "
                           "commit \"abc123\" has no -cv flag; remove config_variant"));
  // --domain is lower-cased by the launcher before its choices are checked.
  EXPECT_EQ(error_of(test_with_args("domain = \"LLM\"\n"), kV03Parser, "v0.3.0"), "");
  EXPECT_THAT(error_of(test_with_args("domain = \"qwen3vl\"\n"), kV03Parser, "v0.3.0"),
              HasSubstr("cmd_args.domain"));
}

// The v0.3.0 test double under tools/mbridge-emulator declares every flag benchpilot can send
// to a v0.3.0 launcher (offline is v0.6 only), so the e2e tests pass the pinned-launcher check.
TEST(LauncherFlags, EmulatorV03ParserHasEveryFlagBenchpilotSends) {
  fs::path file = fs::path(BENCHPILOT_SOURCE_DIR) / "tools" / "mbridge-emulator";
  std::optional<LauncherFlagSet> flags = read_launcher_flags(file);
  if (!flags) GTEST_SKIP() << "no emulator argument_parser.py at " << file;
  for (const ArgSpec& spec : arg_specs()) {
    if (spec.flag.empty() || spec.name == "offline") continue;
    EXPECT_NE(flags->find(spec.flag), nullptr) << spec.flag;
  }
  EXPECT_THAT(flags->find("-g")->choices, ElementsAre("h100", "b200", "gb200", "gb300", "b300"));
  EXPECT_EQ(flags->find("--offline"), nullptr);
}

struct FakeClone {
  testkit::TempDir install;
  fs::path clone = install / "Megatron-Bridge__v0.3.0";
  explicit FakeClone(const char* parser_text, bool flat_recipes = false) {
    testkit::write_file(clone / "scripts" / "performance" / "argument_parser.py", parser_text);
    if (flat_recipes)
      fs::create_directories(clone / "src" / "megatron" / "bridge" / "perf_recipes");
  }
};

TEST(LauncherFlags, ReadsTheInstalledClone) {
  FakeClone v06(kV06Parser, /*flat_recipes=*/true);
  std::optional<LauncherFlagSet> flags = read_launcher_flags(v06.clone);
  ASSERT_TRUE(flags);
  EXPECT_TRUE(flags->flat_recipes);
  EXPECT_NE(flags->find("--offline"), nullptr);
  EXPECT_FALSE(read_launcher_flags(v06.install / "missing"));
}

TEST(LauncherFlags, PreflightChecksTheInstalledLauncherOnly) {
  System system;
  testkit::TempDir scratch;
  system.install_path = scratch / "never_installed";
  TestDefinition offline = test_with_args("offline = true\n");
  EXPECT_NO_THROW(check_pinned_launcher(offline, system));  // nothing to read yet

  FakeClone v03(kV03Parser);
  system.install_path = v03.install;
  try {
    check_pinned_launcher(offline, system);
    FAIL() << "offline accepted by a v0.3.0 launcher";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("pinned at commit \"v0.3.0\" has no --offline flag"));
  }
  EXPECT_NO_THROW(check_pinned_launcher(test_with_args(""), system));
  // The workload's preflight runs the same check; offline needs no token.
  EXPECT_THROW(megatron_bridge_workload().preflight(offline, system, PreflightMode::kBeforeRun),
               ConfigError);
}

}  // namespace
}  // namespace bp::mbridge
