#include "workloads/megatron_bridge/constraints.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>

#include "config/toml_reader.h"
#include "util/log.h"

namespace bp {
namespace {

const std::vector<std::string> kFields = {"num_gpus",
                                          "model_family_name",
                                          "model_recipe_name",
                                          "use_megatron_fsdp",
                                          "cuda_graph_impl",
                                          "cuda_graph_scope",
                                          "tp",
                                          "pp",
                                          "cp",
                                          "vp",
                                          "ep",
                                          "et",
                                          "mb",
                                          "gb",
                                          "seq_length",
                                          "moe_a2a_overlap",
                                          "activation_offload_layers",
                                          "recompute_modules"};

const ModelCatalog& builtin() {
  static const ModelCatalog c = ModelCatalog::load("");
  return c;
}

// `pin`: the Megatron-Bridge commit in git_repos (none when empty: an unknown release). The C
// and M rules alone: the memory rule (E1) is off unless a test asks for it (estimator_test.cc
// tests E1).
TestRun mb_run(const std::string& cmd_args, const std::string& pin = "",
               OomRule oom = OomRule::kOff) {
  TestRun run;
  run.id = "case";
  run.test.name = "mb";
  run.test.test_template_name = "MegatronBridge";
  run.test.cmd_args = read_toml_string(cmd_args, "test.toml");
  if (!pin.empty()) {
    GitRepo repo;
    repo.url = "https://github.com/NVIDIA-NeMo/Megatron-Bridge.git";
    repo.commit = pin;
    run.test.git_repos.push_back(repo);
  }
  run.test.oom_rule = oom;
  return run;
}

// Rule ids that reject the single point of `cmd_args`.
std::set<std::string> rejected_by(const std::string& cmd_args,
                                  const ModelCatalog& catalog = builtin(),
                                  const std::string& pin = "", OomRule oom = OomRule::kOff) {
  TestRun run = mb_run(cmd_args, pin, oom);
  ParamSpace space(run, kFields);
  CompiledConstraints c = compile_megatron_bridge(run, space, catalog);
  std::vector<uint32_t> idx;
  space.decode(1, idx);
  std::set<std::string> ids;
  for (const Violation& v : c.explain(idx)) ids.insert(v.rule_id);
  EXPECT_EQ(ids.empty(), c.check(idx) == 0);
  return ids;
}

bool rejects(const std::string& id, const std::string& cmd_args,
             const ModelCatalog& catalog = builtin()) {
  return rejected_by(cmd_args, catalog).count(id) > 0;
}

std::string message_of(const std::string& id, const std::string& cmd_args,
                       const std::string& pin = "") {
  TestRun run = mb_run(cmd_args, pin);
  ParamSpace space(run, kFields);
  CompiledConstraints c = compile_megatron_bridge(run, space, builtin());
  std::vector<uint32_t> idx;
  space.decode(1, idx);
  for (const Violation& v : c.explain(idx))
    if (v.rule_id == id) return v.message;
  return "";
}

const std::string kUnknown = "model_recipe_name = 'my_model'\n";

// ---- CloudAI's rules, accepting and rejecting -------------------------------------------------

TEST(CloudAiRules, C1TpPpCpDividesGpus) {
  EXPECT_TRUE(rejects("C1", kUnknown + "num_gpus = 8\ntp = 3\n"));
  EXPECT_FALSE(rejects("C1", kUnknown + "num_gpus = 8\ntp = 2\npp = 2\ncp = 2\n"));
  EXPECT_FALSE(rejects("C1", kUnknown + "tp = 0\n"));  // 0 counts as 1, as in CloudAI
  EXPECT_EQ(message_of("C1", kUnknown + "num_gpus = 8\ntp = 3\n"),
            "num_gpus=8 is not divisible by tp*pp*cp=3 (tp=3 pp=1 cp=1)");
}

TEST(CloudAiRules, C3DataParallelPositive) {
  EXPECT_TRUE(rejects("C3", kUnknown + "num_gpus = 8\ntp = 16\n"));
  EXPECT_FALSE(rejects("C3", kUnknown + "num_gpus = 8\ntp = 8\n"));
}

TEST(CloudAiRules, C4GlobalBatchDivisible) {
  EXPECT_TRUE(rejects("C4", kUnknown + "num_gpus = 8\nmb = 3\ngb = 128\n"));
  EXPECT_FALSE(rejects("C4", kUnknown + "num_gpus = 8\nmb = 2\ngb = 128\n"));
  EXPECT_FALSE(rejects("C4", kUnknown + "num_gpus = 8\nmb = 3\n"));  // gb unset: not checked
  // With FSDP the optimizer instances multiply the divisor.
  EXPECT_TRUE(rejects("C4", kUnknown + "num_gpus = 8\nmb = 2\ngb = 32\nuse_megatron_fsdp = true\n"
                                       "num_distributed_optimizer_instances = 3\n"));
  EXPECT_FALSE(rejects("C4", kUnknown + "num_gpus = 8\nmb = 2\ngb = 32\nuse_megatron_fsdp = true\n"
                                        "num_distributed_optimizer_instances = 2\n"));
}

TEST(CloudAiRules, C5FsdpWithoutGraphs) {
  EXPECT_TRUE(rejects("C5", kUnknown +
                                "use_megatron_fsdp = true\ncuda_graph_impl = 'transformer_engine'\n"
                                "cuda_graph_scope = 'attn'\n"));
  // No scope: CloudAI does not count graphs as on.
  EXPECT_FALSE(rejects(
      "C5", kUnknown + "use_megatron_fsdp = true\ncuda_graph_impl = 'transformer_engine'\n"));
}

TEST(CloudAiRules, C6FsdpNeedsNoPipeline) {
  EXPECT_TRUE(rejects("C6", kUnknown + "use_megatron_fsdp = true\npp = 2\n"));
  EXPECT_TRUE(rejects("C6", kUnknown + "use_megatron_fsdp = true\nvp = 2\n"));
  EXPECT_TRUE(rejects("C6", kUnknown + "use_megatron_fsdp = 'true'\ncp = 2\n"));
  EXPECT_FALSE(rejects("C6", kUnknown + "use_megatron_fsdp = true\nvp = 1\n"));
  EXPECT_FALSE(rejects("C6", kUnknown + "use_megatron_fsdp = false\npp = 2\n"));
}

TEST(CloudAiRules, C7ExpertGrid) {
  EXPECT_TRUE(rejects("C7", kUnknown + "num_gpus = 8\net = 2\nep = 8\n"));
  EXPECT_FALSE(rejects("C7", kUnknown + "num_gpus = 8\net = 1\nep = 8\n"));
  EXPECT_FALSE(rejects("C7", kUnknown + "num_gpus = 8\nep = 16\n"));  // et unset: not checked
}

TEST(CloudAiRules, C9OptimizerInstancesNeedFsdp) {
  EXPECT_TRUE(rejects("C9", kUnknown + "num_distributed_optimizer_instances = 2\n"));
  EXPECT_FALSE(rejects(
      "C9", kUnknown + "num_distributed_optimizer_instances = 2\nuse_megatron_fsdp = true\n"));
}

TEST(CloudAiRules, C10OffloadWithPipeline) {
  EXPECT_TRUE(rejects("C10", kUnknown + "pp = 2\nactivation_offload_layers = 2\n"));
  EXPECT_FALSE(rejects("C10", kUnknown + "pp = 1\nactivation_offload_layers = 2\n"));
}

TEST(CloudAiRules, C11A2aOverlapWithGraphs) {
  EXPECT_TRUE(rejects("C11", kUnknown + "cuda_graph_impl = 'local'\nmoe_a2a_overlap = true\n"));
  EXPECT_FALSE(rejects("C11", kUnknown + "cuda_graph_impl = 'none'\nmoe_a2a_overlap = true\n"));
}

TEST(CloudAiRules, C12OffloadWithGraphs) {
  EXPECT_TRUE(rejects(
      "C12", kUnknown + "cuda_graph_impl = 'transformer_engine'\ncuda_graph_scope = 'attn'\n"
                        "activation_offload_layers = 2\n"));
  EXPECT_FALSE(rejects("C12", kUnknown + "cuda_graph_impl = 'transformer_engine'\n"
                                         "activation_offload_layers = 2\n"));
}

TEST(CloudAiRules, C13KnownImpl) {
  EXPECT_TRUE(rejects("C13", kUnknown + "cuda_graph_impl = 'bogus'\n"));
  EXPECT_NE(message_of("C13", kUnknown + "cuda_graph_impl = 'bogus'\n").find("bogus"),
            std::string::npos);
  EXPECT_FALSE(rejects("C13", kUnknown + "cuda_graph_impl = ' Local '\n"));
  EXPECT_FALSE(rejects("C13", kUnknown + "cuda_graph_impl = 'null'\n"));
}

TEST(CloudAiRules, C14ImplScopeCompatibility) {
  EXPECT_TRUE(rejects("C14", kUnknown + "cuda_graph_impl = 'local'\ncuda_graph_scope = 'attn'\n"));
  EXPECT_FALSE(rejects(
      "C14", kUnknown + "cuda_graph_impl = 'local'\ncuda_graph_scope = 'full_iteration'\n"));
  EXPECT_TRUE(rejects("C14", kUnknown + "cuda_graph_impl = 'transformer_engine'\n"
                                        "cuda_graph_scope = '[full_iteration]'\n"));
  EXPECT_TRUE(rejects(
      "C14", kUnknown + "cuda_graph_impl = 'transformer_engine'\ncuda_graph_scope = 'bogus'\n"));
  EXPECT_FALSE(rejects("C14", kUnknown + "cuda_graph_impl = 'transformer_engine'\n"
                                         "cuda_graph_scope = \"['attn', 'mamba']\"\n"));
}

TEST(CloudAiRules, C15MoeAndRouterScopes) {
  EXPECT_TRUE(rejects("C15", kUnknown + "cuda_graph_scope = 'moe,moe_router'\n"));
  EXPECT_FALSE(rejects("C15", kUnknown + "cuda_graph_scope = 'moe'\n"));
}

TEST(CloudAiRules, C16PreprocessNeedsRouter) {
  EXPECT_TRUE(rejects("C16", kUnknown + "cuda_graph_scope = 'moe_preprocess'\n"));
  EXPECT_FALSE(rejects("C16", kUnknown + "cuda_graph_scope = 'moe_router, MOE_PREPROCESS'\n"));
}

TEST(CloudAiRules, C17RecomputeVersusScopes) {
  auto with = [](const std::string& scope, const std::string& rec) {
    return kUnknown + "cuda_graph_scope = '" + scope + "'\nrecompute_modules = '" + rec + "'\n";
  };
  EXPECT_TRUE(rejects("C17", with("attn", "core_attn")));
  EXPECT_TRUE(rejects("C17", with("attn", "mla_up_proj")));
  EXPECT_TRUE(rejects("C17", with("mlp", "mlp")));
  EXPECT_TRUE(rejects("C17", with("moe", "moe_act")));
  EXPECT_TRUE(rejects("C17", with("moe_router", "shared_experts")));
  EXPECT_TRUE(rejects("C17", with("attn,mlp,moe_router", "layernorm")));
  EXPECT_FALSE(rejects("C17", with("attn,mlp", "layernorm")));
  EXPECT_FALSE(rejects("C17", with("attn", "mlp")));
  EXPECT_FALSE(rejects("C17", with("moe_router", "moe_act")));
}

TEST(CloudAiRules, C18DeepSeekPairs) {
  EXPECT_TRUE(rejects("C18", "model_recipe_name = 'my_deepseek_v3_variant'\npp = 2\n"));
  EXPECT_TRUE(rejects("C18", "model_recipe_name = 'my_deepseek_v3_variant'\npp = 4\nvp = 3\n"));
  EXPECT_FALSE(rejects("C18", "model_recipe_name = 'my_deepseek_v3_variant'\npp = 4\nvp = 2\n"));
  EXPECT_FALSE(rejects("C18", "model_recipe_name = 'my_deepseek_v3_variant'\npp = 16\nvp = 1\n"));
  EXPECT_FALSE(rejects("C18", "model_recipe_name = 'llama_custom'\npp = 2\n"));
}

// C18 follows the pinned release: v0.6.0's perf recipes run DeepSeek-V3 at (2, 8) on GB300 and
// (8, 4) on H100 with their own layouts; v0.3.0 pins and unknown pins keep CloudAI's list.
TEST(CloudAiRules, C18PairsFollowThePinnedRelease) {
  const std::string ds = "model_recipe_name = 'my_deepseek_v3_variant'\n";
  for (const char* pair : {"pp = 2\nvp = 8\n", "pp = 8\nvp = 4\n"}) {
    EXPECT_FALSE(rejected_by(ds + pair, builtin(), "v0.6.0").count("C18")) << pair;
    EXPECT_TRUE(rejected_by(ds + pair, builtin(), "v0.3.0").count("C18")) << pair;
    EXPECT_TRUE(rejected_by(ds + pair, builtin(), "my-branch").count("C18")) << pair;
    EXPECT_TRUE(rejects("C18", ds + pair)) << pair;  // no pin at all
  }
  EXPECT_TRUE(rejected_by(ds + "pp = 2\nvp = 4\n", builtin(), "v0.6.0").count("C18"));
  EXPECT_FALSE(rejected_by(ds + "pp = 4\nvp = 4\n", builtin(), "v0.6.0").count("C18"));
  EXPECT_EQ(message_of("C18", ds + "pp = 2\nvp = 4\n", "v0.6.0"),
            "DeepSeek-V3 supports (pp, vp) in (1,1) (4,1) (8,1) (4,2) (16,1) (8,2) (4,4) (2,8) "
            "(8,4) (the pinned v0.6 recipes); got (2,4)");
  EXPECT_EQ(message_of("C18", ds + "pp = 2\nvp = 8\n", "v0.3.0"),
            "DeepSeek-V3 supports (pp, vp) in (1,1) (4,1) (8,1) (4,2) (16,1) (8,2) (4,4) "
            "(CloudAI's list, for the pinned v0.3 recipes); got (2,8)");
}

// CloudAI's own cases for constraints 19 and 20 (PR 1025), from
// tests/workloads/megatron_bridge/test_workload.py at CloudAI commit 7370a52b: the fixed
// arguments satisfy every other rule, so CloudAI's verdict is whether any C-rule rejects.
TEST(CloudAiRules, C19C20MatchCloudAisOwnCases) {
  struct Case {
    const char* ep;
    int pp;
    const char* vp;
    bool a2a;
    bool valid;
  };
  const Case cases[] = {
      {"32", 1, nullptr, false, true}, {"32", 1, "1", false, true},
      {"32", 1, "2", false, false},    {"32", 1, "4", false, false},
      {"32", 2, nullptr, true, false}, {"32", 2, "1", true, false},
      {"32", 2, "2", true, true},      {"32", 4, "4", true, true},
      {"32", 2, nullptr, false, true}, {"32", 2, "1", false, true},
      {nullptr, 2, "1", true, true},   {"1", 2, "1", true, true},
  };
  for (const Case& c : cases) {
    std::string args =
        "model_family_name = 'qwen3'\nmodel_recipe_name = '30b_a3b'\nnum_gpus = 128\n"
        "tp = 1\ncp = 1\net = 1\nmb = 1\ngb = 128\npp = " +
        std::to_string(c.pp) + "\nmoe_a2a_overlap = " + (c.a2a ? "true" : "false") + "\n";
    if (c.ep) args += std::string("ep = ") + c.ep + "\n";
    if (c.vp) args += std::string("vp = ") + c.vp + "\n";
    std::set<std::string> cloudai;
    for (const std::string& id : rejected_by(args))
      if (id[0] == 'C') cloudai.insert(id);
    EXPECT_EQ(cloudai.empty(), c.valid) << args;
    for (const std::string& id : cloudai) EXPECT_TRUE(id == "C19" || id == "C20") << args;
  }
}

TEST(CloudAiRules, C19C20ReadTheWrittenValues) {
  // CloudAI's pp is the written one (or 1): the recipe's pp = 4 for llama3_70b on H100 does not
  // count, so vp = 5 without pp is pruned.
  EXPECT_TRUE(rejects("C19", "model_recipe_name = 'llama3_70b'\ngpu_type = 'h100'\nvp = 5\n"));
  EXPECT_EQ(message_of("C19", kUnknown + "vp = 2\n"),
            "vp=2 needs pp > 1 (pp=1; an unwritten pp is 1)");
  EXPECT_FALSE(rejects("C20", kUnknown + "ep = 8\npp = 2\nmoe_a2a_overlap = false\n"));
  EXPECT_EQ(message_of("C20", kUnknown + "ep = 8\npp = 2\nvp = 1\nmoe_a2a_overlap = true\n"),
            "moe_a2a_overlap=true with ep=8 and pp=2 needs a virtual pipeline (vp > 1), got vp=1");
}

TEST(CloudAiRules, UnknownRecipeGetsOnlyGenericRulesAndOneWarning) {
  TestRun run = mb_run("model_recipe_name = 'never_heard_of_it'\ntp = [1, 2]\n");
  ParamSpace space(run, kFields);
  int before = log::warning_count();
  CompiledConstraints a = compile_megatron_bridge(run, space, builtin());
  CompiledConstraints b = compile_megatron_bridge(run, space, builtin());
  EXPECT_EQ(log::warning_count(), before + 1);
  EXPECT_EQ(a.rules().size(), megatron_bridge_cloudai_rules().size());
  EXPECT_EQ(megatron_bridge_cloudai_rules().size(), 18u);  // CloudAI's 20; 2 and 8 are always true
}

TEST(CloudAiRules, BadValueNamesFileLineAndKey) {
  TestRun run = mb_run("model_recipe_name = 'x'\ntp = [1, 'two']\n");
  ParamSpace space(run, kFields);
  try {
    compile_megatron_bridge(run, space, builtin());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("test.toml:2: cmd_args.tp: expected an integer", 0), 0u)
        << e.what();
  }
}

// ---- Model-aware rules -------------------------------------------------------------------------

const std::string kLlama8b = "model_recipe_name = 'llama3_8b'\n";
const std::string kLlama70b = "model_recipe_name = 'llama3_70b'\nnum_gpus = 64\n";
const std::string kQwen30b = "model_recipe_name = 'qwen3_30b_a3b'\nnum_gpus = 16\n";
const std::string kDeepSeek = "model_recipe_name = 'deepseek_v3'\nnum_gpus = 256\n";

TEST(ModelRules, CatalogCoversTheRequiredRecipes) {
  for (const char* r : {"llama3_8b", "llama3_70b", "llama31_405b", "qwen3_30b_a3b",
                        "qwen3_235b_a22b", "deepseek_v3", "gpt_oss_120b", "nemotronh_56b"})
    EXPECT_NE(builtin().find(r), nullptr) << r;
  // family + recipe, as CloudAI's acceptance test writes it (-m qwen3 -mr 30b_a3b).
  EXPECT_NE(builtin().find("30b_a3b", "qwen3"), nullptr);
}

TEST(ModelRules, V06FamiliesAreChecked) {
  for (const char* r : {"kimi_k2", "qwen3_next_80b_a3b", "nemotron_3_5_lightning", "wan_14b",
                        "nemotron_3_nano", "gpt_oss_20b"})
    EXPECT_NE(builtin().find(r), nullptr) << r;
  const std::string kimi = "model_recipe_name = 'kimi_k2'\nnum_gpus = 256\n";
  EXPECT_TRUE(rejects("M3", kimi + "ep = 5\n"));  // 384 experts
  EXPECT_FALSE(rejects("M3", kimi + "ep = 64\n"));
  EXPECT_TRUE(rejects("M6", kimi + "pp = 2\nvp = 1\n"));  // no layout for (2, 1)
  EXPECT_FALSE(rejects("M6", kimi + "pp = 4\nvp = 4\n"));
  EXPECT_TRUE(rejects("M1", "model_recipe_name = 'qwen3_next_80b_a3b'\nnum_gpus = 32\ntp = 32\n"));
  EXPECT_TRUE(rejects("M9", "model_recipe_name = 'wan_14b'\nnum_gpus = 24\ncp = 3\n"));
  // Wan on H100 runs cp = 4 by itself: a 1020-token sequence cannot be split 8 ways.
  EXPECT_TRUE(rejects(
      "M9",
      "model_recipe_name = 'wan_14b'\ngpu_type = 'h100'\nnum_gpus = 32\nseq_length = 1020\n"));
  // Lightning has two MTP layers: a layout must place them.
  const std::string layout =
      "model_recipe_name = 'nemotron_3_5_lightning'\nnum_gpus = 16\npp = 2\n"
      "pipeline_model_parallel_layout = ";
  EXPECT_TRUE(rejects("M8", layout + "'E(t)*26|(t)*26mL'\n"));
  EXPECT_FALSE(rejects("M8", layout + "'E(t)*26|(t)*26mmL'\n"));
}

TEST(ModelRules, M1HeadsDivisibleByTp) {
  EXPECT_TRUE(rejects("M1", kLlama8b + "num_gpus = 64\ntp = 64\n"));
  EXPECT_FALSE(rejects("M1", kLlama8b + "num_gpus = 64\ntp = 8\n"));
}

TEST(ModelRules, M2QueryGroupsVersusTp) {
  ModelCatalog c = ModelCatalog::parse(read_toml_string(
      "[odd]\nnum_layers = 12\nnum_attention_heads = 48\nnum_query_groups = 8\n", "cat.toml"));
  EXPECT_TRUE(rejects("M2", "model_recipe_name = 'odd'\nnum_gpus = 48\ntp = 6\n", c));
  EXPECT_FALSE(rejects("M2", "model_recipe_name = 'odd'\nnum_gpus = 48\ntp = 16\n", c));
  EXPECT_FALSE(rejects("M2", "model_recipe_name = 'odd'\nnum_gpus = 48\ntp = 4\n", c));
}

TEST(ModelRules, M3ExpertsDivisibleByEp) {
  EXPECT_TRUE(rejects("M3", kQwen30b + "ep = 3\n"));
  EXPECT_FALSE(rejects("M3", kQwen30b + "ep = 8\n"));
  EXPECT_TRUE(rejects("M3", kLlama8b + "ep = 2\n"));  // dense model
  EXPECT_EQ(message_of("M3", kQwen30b + "ep = 3\n"),
            "num_moe_experts=128 is not divisible by ep=3");
}

TEST(ModelRules, M4LayersDivisibleByPp) {
  // pp=3 for llama3_8b's 32 layers: Megatron cannot split them evenly.
  EXPECT_TRUE(rejects("M4", kLlama8b + "num_gpus = 24\npp = 3\n"));
  EXPECT_EQ(message_of("M4", kLlama8b + "num_gpus = 24\npp = 3\n"),
            "num_layers=32 is not divisible by pp=3");
  EXPECT_FALSE(rejects("M4", kLlama8b + "pp = 4\n"));
  // 405B counts embedding and loss as layers: 126 + 2 = 128.
  EXPECT_FALSE(rejects("M4", "model_recipe_name = 'llama31_405b'\nnum_gpus = 512\npp = 8\n"));
  EXPECT_TRUE(rejects("M4", "model_recipe_name = 'llama31_405b'\nnum_gpus = 504\npp = 7\n"));
  EXPECT_FALSE(rejects("M4", "model_recipe_name = 'qwen3_235b_a22b'\nnum_gpus = 64\npp = 8\n"));
  // A user override of num_layers wins over the catalog.
  EXPECT_FALSE(rejects("M4", kLlama8b + "num_gpus = 24\npp = 3\nnum_layers = 30\n"));
}

TEST(ModelRules, M5StageLayersDivisibleByVp) {
  EXPECT_FALSE(rejects("M5", kLlama70b + "tp = 4\npp = 4\nvp = 5\n"));  // 80/4 = 20, 20 % 5
  EXPECT_TRUE(rejects("M5", kLlama70b + "tp = 4\npp = 4\nvp = 3\n"));
  EXPECT_FALSE(rejects("M5", kQwen30b + "pp = 2\nvp = 12\n"));
}

// C18 (CloudAI's rule, for any recipe naming deepseek_v3) and the built-in catalog's deepseek_v3
// pairs (M6) are written in two places; they must agree for every pinned release.
TEST(CloudAiRules, C18AgreesWithTheCatalogsDeepSeekPairs) {
  const ModelShape* ds = builtin().find("deepseek_v3");
  ASSERT_NE(ds, nullptr);
  for (auto [pin, v0_6] : {std::pair{"v0.6.0", true}, {"v0.3.0", false}, {"", false}}) {
    const auto& pairs = ds->layout_pairs(v0_6);
    for (int64_t pp = 1; pp <= 16; ++pp)
      for (int64_t vp = 1; vp <= 16; ++vp) {
        const bool listed =
            std::find(pairs.begin(), pairs.end(), std::make_pair(pp, vp)) != pairs.end();
        const std::string args =
            "model_recipe_name = 'custom_deepseek_v3'\npp = " + std::to_string(pp) +
            "\nvp = " + std::to_string(vp) + "\n";
        EXPECT_EQ(rejected_by(args, builtin(), pin).count("C18") == 0, listed)
            << pin << " " << pp << "," << vp;
      }
  }
}

// M6 reads the catalog's auto_layout_pairs_v0_6 for a v0.6 pin: the GB300 FP8 recipes' own
// (pp, vp) = (2, 8), unwritten or written, is a layout they build.
TEST(ModelRules, M6PairsFollowThePinnedRelease) {
  const std::string gb300 = kDeepSeek + "gpu_type = 'gb300'\ncompute_dtype = 'fp8_mx'\n";
  EXPECT_TRUE(rejects("M6", gb300));  // no pin: the recipe's own default is refused
  EXPECT_TRUE(rejected_by(gb300, builtin(), "v0.3.0").count("M6"));
  EXPECT_TRUE(rejected_by(gb300, builtin(), "v0.6.0").empty());
  EXPECT_TRUE(rejected_by(gb300 + "pp = 2\nvp = 8\n", builtin(), "v0.6.0").empty());
  EXPECT_TRUE(rejected_by(gb300 + "pp = 2\nvp = 4\n", builtin(), "v0.6.0").count("M6"));
  // A model without v0.6 pairs keeps its one list.
  const std::string kimi = "model_recipe_name = 'kimi_k2'\nnum_gpus = 256\npp = 2\nvp = 1\n";
  EXPECT_TRUE(rejected_by(kimi, builtin(), "v0.6.0").count("M6"));
}

TEST(ModelRules, M6RecipePipelinePairs) {
  EXPECT_TRUE(rejects("M6", kDeepSeek + "pp = 2\n"));
  EXPECT_TRUE(rejects("M6", kDeepSeek + "pp = 8\nvp = 4\n"));
  EXPECT_FALSE(rejects("M6", kDeepSeek + "pp = 8\nvp = 2\n"));
  EXPECT_FALSE(rejects("M6", kDeepSeek + "pp = 4\nvp = 4\n"));
}

std::set<std::string> model_rejections(const std::string& cmd_args) {
  std::set<std::string> out;
  for (const std::string& id : rejected_by(cmd_args))
    if (id[0] == 'M') out.insert(id);
  return out;
}

TEST(ModelRules, M7M8CustomPipelineLayout) {
  // DeepSeek-V3 H100 recipe: pp=8, vp=4 with 32 stages; GB300: pp=2, vp=8 with 16 stages.
  const std::string h100 =
      "model_recipe_name = 'deepseek_v3'\nnum_gpus = 1024\ngpu_type = 'h100'\n"
      "compute_dtype = 'fp8_cs'\npp = 8\nvp = 4\npipeline_model_parallel_layout = "
      "'Et|(tt|)*30mL'\n";
  EXPECT_TRUE(model_rejections(h100).empty());
  const std::string gb300 =
      kDeepSeek + "pp = 2\nvp = 8\npipeline_model_parallel_layout = 'Et*4|(t*4|)*14tmL'\n";
  EXPECT_TRUE(model_rejections(gb300).empty());
  // CloudAI's constraint 18 knows no layouts: it rejects these recipes' own settings.
  EXPECT_EQ(rejected_by(gb300), std::set<std::string>{"C18"});
  const std::string layout = "pipeline_model_parallel_layout = ";
  EXPECT_TRUE(rejects("M7", kDeepSeek + "pp = 8\nvp = 2\n" + layout + "'Et|(tt|)*30mL'\n"));
  EXPECT_TRUE(rejects("M7", kDeepSeek + "pp = 3\n" + layout + "'Et|(tt|)*30mL'\n"));
  EXPECT_TRUE(rejects("M7", kDeepSeek + "pp = 8\n" + layout + "'Et|(tt|*30mL'\n"));
  EXPECT_TRUE(rejects("M8", kDeepSeek + "pp = 8\n" + layout + "'Et|(tt|)*29mL'\n"));
  EXPECT_TRUE(rejects("M8", kDeepSeek + "pp = 8\n" + layout + "'Et|(tt|)*30tL'\n"));
  EXPECT_TRUE(rejects("M8", kDeepSeek + "pp = 8\n" + layout + "'tL|(tt|)*30mE'\n"));
}

TEST(ModelRules, M9SequenceDivisibleByTwoCp) {
  EXPECT_TRUE(rejects("M9", kLlama8b + "num_gpus = 24\ncp = 3\n"));
  EXPECT_FALSE(rejects("M9", kLlama8b + "cp = 2\n"));
  EXPECT_TRUE(rejects("M9", kLlama8b + "cp = 2\nseq_length = 4098\n"));
}

TEST(ModelRules, M10ExpertGridWithDefaultEt) {
  // Qwen's performance configs set et = 1, so tp = 2 with ep = 8 fits 8 GPUs.
  EXPECT_FALSE(
      rejects("M10", "model_recipe_name = 'qwen3_30b_a3b'\nnum_gpus = 8\ntp = 2\nep = 8\n"));
  ModelCatalog c = ModelCatalog::parse(read_toml_string(
      "[moe]\nkind = 'moe'\nnum_layers = 8\nnum_attention_heads = 16\nnum_moe_experts = 8\n",
      "cat.toml"));
  // Without a default, et = tp: 2 * 8 * 1 does not divide 8.
  const std::string moe = "model_recipe_name = 'moe'\nnum_gpus = 8\npp = 1\ncp = 1\n";
  EXPECT_TRUE(rejects("M10", moe + "tp = 2\nep = 8\n", c));
  EXPECT_FALSE(rejects("M10", moe + "tp = 2\nep = 8\net = 1\n", c));
  // pp unwritten and the catalog has no recipe value for this GPU: the rule does not guess 1.
  EXPECT_FALSE(rejects("M10", "model_recipe_name = 'moe'\nnum_gpus = 8\ntp = 2\nep = 8\n", c));
}

TEST(ModelRules, M11EnoughMicrobatchesWhenInterleaved) {
  // 64 GPUs, tp 4, pp 4 -> dp 4; gb 8 / (mb 1 * dp 4) = 2 microbatches < pp.
  EXPECT_TRUE(rejects("M11", kLlama70b + "tp = 4\npp = 4\ncp = 1\nvp = 5\nmb = 1\ngb = 8\n"));
  EXPECT_FALSE(rejects("M11", kLlama70b + "tp = 4\npp = 4\ncp = 1\nvp = 5\nmb = 1\ngb = 16\n"));
  // not interleaved
  EXPECT_FALSE(rejects("M11", kLlama70b + "tp = 4\npp = 4\ncp = 1\nvp = 1\nmb = 1\ngb = 8\n"));
  // On H100 the bf16 recipe runs cp = 2 and vp = 5 when they are not written: dp = 2, so
  // gb 8 gives 4 microbatches, enough for pp 4; gb 4 gives 2, too few.
  const std::string h100 = kLlama70b + "gpu_type = 'h100'\n";
  EXPECT_FALSE(rejects("M11", h100 + "tp = 4\npp = 4\nmb = 1\ngb = 8\n"));
  EXPECT_TRUE(rejects("M11", h100 + "tp = 4\npp = 4\nmb = 1\ngb = 4\n"));
}

TEST(ModelRules, M12RecomputeModules) {
  EXPECT_TRUE(rejects("M12", kLlama8b + "recompute_modules = 'mla_up_proj'\n"));
  EXPECT_TRUE(rejects("M12", kLlama8b + "recompute_modules = 'moe_act'\n"));
  EXPECT_TRUE(rejects("M12", kLlama8b + "recompute_modules = 'attention'\n"));
  EXPECT_TRUE(rejects("M12", kQwen30b + "recompute_modules = 'shared_experts'\n"));
  EXPECT_FALSE(rejects("M12", kLlama8b + "recompute_modules = 'core_attn,mlp,layernorm'\n"));
  EXPECT_FALSE(rejects("M12", kDeepSeek + "recompute_modules = ['mla_up_proj,shared_experts']\n"));
}

TEST(ModelRules, M13CudaGraphScopes) {
  const std::string te = "cuda_graph_impl = 'transformer_engine'\n";
  EXPECT_TRUE(rejects("M13", kLlama8b + te + "cuda_graph_scope = 'moe_router'\n"));
  EXPECT_TRUE(rejects("M13", kLlama8b + te + "cuda_graph_scope = 'mamba'\n"));
  EXPECT_TRUE(rejects("M13", kQwen30b + te + "cuda_graph_scope = 'mlp'\n"));  // all layers MoE
  EXPECT_FALSE(
      rejects("M13", kQwen30b + te + "cuda_graph_scope = 'attn,moe_router,moe_preprocess'\n"));
  EXPECT_FALSE(rejects("M13", "model_recipe_name = 'nemotronh_56b'\nnum_gpus = 64\n" + te +
                                  "cuda_graph_scope = ['mamba,attn']\n"));
  EXPECT_FALSE(rejects("M13", kDeepSeek + te + "cuda_graph_scope = 'mlp'\n"));  // 3 dense layers
  EXPECT_TRUE(
      rejects("M13", kDeepSeek + te + "cuda_graph_scope = 'mlp'\nfirst_k_dense_replace = 0\n"));
}

TEST(ModelRules, M14VirtualStagesNeedPipeline) {
  EXPECT_TRUE(rejects("M14", kLlama8b + "pp = 1\nvp = 2\n"));
  EXPECT_FALSE(rejects("M14", kLlama8b + "pp = 2\nvp = 2\n"));
  // The case: llama3_70b on H100 runs its recipe's pp = 4 when pp is not written, so
  // vp = 5 is valid there.
  EXPECT_FALSE(rejects("M14", kLlama70b + "gpu_type = 'h100'\nvp = 5\n"));
  EXPECT_FALSE(rejects("M14", kLlama70b + "gpu_type = 'h100'\ncompute_dtype = 'fp8_cs'\nvp = 5\n"));
  // A recipe whose pp is 1 on that GPU (llama3_8b on B300): vp alone is rejected.
  EXPECT_TRUE(rejects("M14", kLlama8b + "gpu_type = 'b300'\nvp = 2\n"));
  EXPECT_EQ(message_of("M14", kLlama8b + "gpu_type = 'b300'\nvp = 2\n"),
            "vp=2 needs pipeline parallelism (pp=1)");
  // Unknown recipe value (no catalog entry for gb200/bf16, or another task or config variant):
  // the rule does not fire rather than assume pp = 1.
  EXPECT_FALSE(rejects("M14", kLlama8b + "vp = 2\n"));
  EXPECT_FALSE(rejects("M14", kLlama8b + "gpu_type = 'b300'\ntask = 'sft'\nvp = 2\n"));
  EXPECT_FALSE(rejects("M14", kLlama8b + "gpu_type = 'b300'\nconfig_variant = 'v1'\nvp = 2\n"));
}

TEST(ModelRules, UnwrittenFieldsUseTheRecipeValue) {
  // M4: llama3_70b on H100/fp8_cs runs pp = 8 by itself; 64 layers via num_layers split fine,
  // 60 do not.
  const std::string fp8 = kLlama70b + "gpu_type = 'h100'\ncompute_dtype = 'fp8_cs'\n";
  EXPECT_FALSE(rejects("M4", fp8 + "num_layers = 64\n"));
  EXPECT_TRUE(rejects("M4", fp8 + "num_layers = 60\n"));
  EXPECT_EQ(message_of("M4", fp8 + "num_layers = 60\n"), "num_layers=60 is not divisible by pp=8");
  // M3: a dense model has ep = 1 whatever the recipe; an MoE recipe's ep comes from the catalog.
  EXPECT_FALSE(rejects("M3", kLlama8b));
  EXPECT_FALSE(rejects("M3", kDeepSeek));  // gb200/bf16: ep = 64 of 256 experts
  // M6: DeepSeek-V3 on GB200 runs (pp, vp) = (4, 4); writing pp = 8 keeps vp = 4: not a layout.
  EXPECT_TRUE(rejects("M6", kDeepSeek + "pp = 8\n"));
  EXPECT_FALSE(rejects("M6", kDeepSeek + "pp = 8\nvp = 1\n"));
}

TEST(ModelRules, M15OffloadLimits) {
  EXPECT_TRUE(rejects("M15", kLlama8b + "activation_offload_layers = 32\n"));
  EXPECT_TRUE(
      rejects("M15", kLlama8b + "activation_offload_layers = 2\nrecompute_modules = 'mlp'\n"));
  EXPECT_FALSE(rejects("M15", kLlama8b + "activation_offload_layers = 2\n"));
}

TEST(ModelRules, PerfRecipeConfigsPass) {
  // Parallelism of Megatron-Bridge's own performance tables must not be pruned by model rules.
  const char* configs[] = {
      "model_recipe_name = 'llama3_70b'\nnum_gpus = 64\ntp = 4\npp = 8\nvp = 5\nmb = 1\ngb = 128\n",
      "model_recipe_name = 'llama31_405b'\nnum_gpus = 1024\ntp = 8\npp = 8\ncp = 2\nvp = 8\nmb = "
      "1\ngb = 512\n",
      "model_recipe_name = 'qwen3_30b_a3b'\nnum_gpus = 16\npp = 2\nvp = 12\nep = 8\net = 1\nmb = "
      "1\ngb = 1024\n",
      "model_recipe_name = 'qwen3_235b_a22b'\nnum_gpus = 256\ntp = 2\npp = 8\nvp = 4\nep = 32\nmb "
      "= 1\ngb = 2048\n",
      "model_recipe_name = 'deepseek_v3'\nnum_gpus = 256\npp = 4\nvp = 4\nep = 64\nmb = 1\ngb = "
      "2048\n"
      "recompute_modules = ['mla_up_proj']\n",
      "model_recipe_name = 'gpt_oss_120b'\nnum_gpus = 64\npp = 4\nep = 8\nmb = 1\ngb = 512\n"
      "recompute_modules = 'layernorm,moe_act'\n",
      "model_recipe_name = 'nemotronh_56b'\nnum_gpus = 64\ntp = 8\nmb = 1\ngb = 192\n"
      "cuda_graph_impl = 'transformer_engine'\ncuda_graph_scope = 'mamba'\n",
      // v0.6.0 recipes.
      "model_recipe_name = 'kimi_k2'\nnum_gpus = 256\npp = 4\nvp = 4\nep = 64\n",
      "model_recipe_name = 'kimi_k2'\ngpu_type = 'h100'\nnum_gpus = 1024\ntp = 8\npp = 16\nvp = "
      "2\nep = 64\n",
      "model_recipe_name = 'qwen3_next_80b_a3b'\ngpu_type = 'gb300'\nnum_gpus = 64\npp = 2\nvp = "
      "4\nep = 32\n",
      "model_recipe_name = 'wan_14b'\ngpu_type = 'h100'\nnum_gpus = 32\n",
      "model_recipe_name = 'nemotron_3_nano'\ngpu_type = 'h100'\nnum_gpus = 16\n",
  };
  for (const char* c : configs) {
    // Nor predicted out of memory (E1 on).
    std::set<std::string> bad = rejected_by(c, builtin(), "", OomRule::kPrune);
    EXPECT_TRUE(bad.empty()) << c << " rejected by " << (bad.empty() ? "" : *bad.begin());
  }
}

// ---- The valid set of sample spaces equals a brute-force reference -----------------------------
//
// The reference below is written the straightforward way, from the cmd_args of each point after
// apply_point, as CloudAI's Python and Megatron's checks read.

std::optional<int64_t> opt_int(const Value& a, const char* k) {
  const Value* v = a.find(k);
  if (!v) return std::nullopt;
  return v->as_int();
}
int64_t or1(std::optional<int64_t> v) {
  return v && *v ? *v : 1;
}
bool truthy(const Value& a, const char* k) {
  const Value* v = a.find(k);
  if (!v) return false;
  if (v->is_string()) return v->as_string() == "true";
  return v->as_bool();
}
std::string lower_strip(std::string s) {
  auto isq = [](char c) { return c == '"' || c == '\''; };
  while (!s.empty() && isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && isq(s.front())) s.erase(s.begin());
  while (!s.empty() && isq(s.back())) s.pop_back();
  for (char& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}
std::vector<std::string> items_of(const Value& a, const char* k) {
  std::vector<std::string> out;
  const Value* v = a.find(k);
  if (!v) return out;
  std::vector<std::string> raws;
  if (v->is_array())
    for (const Value& x : v->items()) raws.push_back(x.as_string());
  else
    raws.push_back(v->as_string());
  for (std::string raw : raws) {
    raw = lower_strip(raw);
    if (raw.size() >= 2 && raw.front() == '[' && raw.back() == ']')
      raw = raw.substr(1, raw.size() - 2);
    size_t start = 0;
    while (true) {
      size_t comma = raw.find(',', start);
      std::string seg =
          lower_strip(raw.substr(start, comma == std::string::npos ? comma : comma - start));
      if (!seg.empty()) out.push_back(seg);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}
bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool reference_cloudai_ok(const Value& a) {
  int64_t gpus = opt_int(a, "num_gpus").value_or(8);
  int64_t tp = or1(opt_int(a, "tp")), pp = or1(opt_int(a, "pp")), cp = or1(opt_int(a, "cp"));
  auto vp = opt_int(a, "vp");
  int64_t mb = opt_int(a, "mb").value_or(0), gb = opt_int(a, "gb").value_or(0);
  auto et = opt_int(a, "et"), ep = opt_int(a, "ep");
  bool fsdp = truthy(a, "use_megatron_fsdp");
  auto ndo = opt_int(a, "num_distributed_optimizer_instances");
  int64_t offload = opt_int(a, "activation_offload_layers").value_or(0);
  bool a2a = truthy(a, "moe_a2a_overlap");
  std::string impl =
      a.find("cuda_graph_impl") ? lower_strip(a.find("cuda_graph_impl")->as_string()) : "";
  std::vector<std::string> sc = items_of(a, "cuda_graph_scope");
  std::vector<std::string> rc = items_of(a, "recompute_modules");
  std::string recipe = a.find("model_recipe_name") ? a.find("model_recipe_name")->as_string() : "";

  int64_t denom = tp * pp * cp;
  int64_t dp = gpus / denom;
  if (gpus % denom != 0) return false;
  if (dp == 0) return false;
  if (mb && gb && gb % (mb * dp * (fsdp ? or1(ndo) : 1)) != 0) return false;
  bool impl_on = !(impl.empty() || impl == "none" || impl == "null");
  bool graphs = impl_on && !sc.empty();
  if (fsdp && graphs) return false;
  if (fsdp && !(pp == 1 && cp == 1 && (!vp || *vp == 1))) return false;
  if (et && ep && gpus % (*et * *ep * pp) != 0) return false;
  if (ndo && *ndo > 1 && !fsdp) return false;
  if (pp > 1 && offload > 0) return false;
  if (impl_on && a2a) return false;
  if (graphs && offload > 0) return false;
  if (impl_on && impl != "local" && impl != "transformer_engine") return false;
  if (impl == "local" && !(sc.empty() || (sc.size() == 1 && sc[0] == "full_iteration")))
    return false;
  if (impl == "transformer_engine")
    for (const std::string& s : sc)
      if (s == "full_iteration" || !(s == "attn" || s == "mlp" || s == "moe" || s == "moe_router" ||
                                     s == "moe_preprocess" || s == "mamba"))
        return false;
  if (has(sc, "moe") && has(sc, "moe_router")) return false;
  if (has(sc, "moe_preprocess") && !has(sc, "moe_router")) return false;
  if (!sc.empty() && !rc.empty()) {
    if (has(sc, "attn") && (has(rc, "core_attn") || has(rc, "mla_up_proj"))) return false;
    if (has(sc, "mlp") && has(rc, "mlp")) return false;
    if (has(sc, "moe") && (has(rc, "moe_act") || has(rc, "moe") || has(rc, "shared_experts")))
      return false;
    if (has(sc, "moe_router") && (has(rc, "moe") || has(rc, "shared_experts"))) return false;
    if (has(rc, "layernorm") && has(sc, "attn") && has(sc, "mlp") &&
        (has(sc, "moe") || has(sc, "moe_router")))
      return false;
  }
  std::string lr = lower_strip(recipe);
  if (lr.find("deepseek_v3") != std::string::npos || lr.find("deepseekv3") != std::string::npos) {
    std::set<std::pair<int64_t, int64_t>> ok = {{1, 1},  {4, 1}, {8, 1}, {4, 2},
                                                {16, 1}, {8, 2}, {4, 4}};
    if (!ok.count({pp, or1(vp)})) return false;
  }
  bool virtual_pipeline = vp && *vp != 1;  // 19 and 20: vp None or 1 is no virtual pipeline
  if (virtual_pipeline && pp == 1) return false;
  if (a2a && ep && *ep > 1 && pp > 1 && !virtual_pipeline) return false;
  return true;
}

// Layout expansion by repeated textual substitution (independent of the parser under test).
std::optional<std::vector<std::string>> reference_stages(std::string s) {
  for (int guard = 0; guard < 100; ++guard) {
    size_t close = s.find(')');
    if (close == std::string::npos) break;
    size_t open = s.rfind('(', close);
    if (open == std::string::npos) return std::nullopt;
    size_t star = close + 1;
    size_t end = star;
    int n = 1;
    if (star < s.size() && s[star] == '*') {
      end = star + 1;
      while (end < s.size() && isdigit(static_cast<unsigned char>(s[end]))) ++end;
      n = std::stoi(s.substr(star + 1, end - star - 1));
    }
    std::string body = s.substr(open + 1, close - open - 1), rep;
    for (int i = 0; i < n; ++i) rep += body;
    s = s.substr(0, open) + rep + s.substr(end);
  }
  if (s.find('(') != std::string::npos) return std::nullopt;
  std::string flat;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i + 1 < s.size() && s[i + 1] == '*') {
      size_t end = i + 2;
      while (end < s.size() && isdigit(static_cast<unsigned char>(s[end]))) ++end;
      flat += std::string(std::stoi(s.substr(i + 2, end - i - 2)), s[i]);
      i = end - 1;
    } else {
      flat += s[i];
    }
  }
  std::vector<std::string> stages(1);
  for (char c : flat) {
    if (c == '|')
      stages.emplace_back();
    else if (c == 'E' || c == 't' || c == 'm' || c == 'L')
      stages.back() += c;
    else
      return std::nullopt;
  }
  return stages;
}

std::string text_or(const Value& a, const char* k, const std::string& fallback) {
  const Value* v = a.find(k);
  return v ? v->as_string() : fallback;
}

// Model rules see what Megatron runs: the written value, else the recipe's (catalog
// pretrain_defaults for the run's GPU and dtype), else nothing, and then they do not fire.
// `recipe_swept`: the case sweeps model_recipe_name (tests only; the schema forbids it), so no
// single recipe's values apply.
bool reference_model_ok(const Value& a, const ModelShape& m, bool recipe_swept) {
  int64_t gpus = opt_int(a, "num_gpus").value_or(8);
  const RecipeParallelism* rd = nullptr;
  if (!recipe_swept && text_or(a, "task", "pretrain") == "pretrain" && !a.find("config_variant"))
    rd = m.pretrain_defaults_for(text_or(a, "gpu_type", "gb200"),
                                 text_or(a, "compute_dtype", "bf16"));
  auto model = [&](const char* k, int64_t RecipeParallelism::*f) -> std::optional<int64_t> {
    if (auto v = opt_int(a, k)) return v;
    if (rd) return rd->*f;
    return std::nullopt;
  };
  auto tp = model("tp", &RecipeParallelism::tp), pp = model("pp", &RecipeParallelism::pp),
       cp = model("cp", &RecipeParallelism::cp), vp = model("vp", &RecipeParallelism::vp),
       ep = model("ep", &RecipeParallelism::ep);
  if (!recipe_swept && !m.is_moe() && !ep) ep = 1;
  auto written_vp = opt_int(a, "vp");
  auto et = opt_int(a, "et");
  int64_t mb = opt_int(a, "mb").value_or(0), gb = opt_int(a, "gb").value_or(0);
  int64_t layers = opt_int(a, "num_layers").value_or(m.num_layers);
  int64_t seq = opt_int(a, "seq_length").value_or(m.seq_length);
  int64_t offload = opt_int(a, "activation_offload_layers").value_or(0);
  std::string impl =
      a.find("cuda_graph_impl") ? lower_strip(a.find("cuda_graph_impl")->as_string()) : "";
  std::vector<std::string> sc = items_of(a, "cuda_graph_scope");
  std::vector<std::string> rc = items_of(a, "recompute_modules");
  std::string layout = a.find("pipeline_model_parallel_layout")
                           ? a.find("pipeline_model_parallel_layout")->as_string()
                           : "";

  if (tp && m.num_attention_heads % *tp) return false;
  if (tp && m.num_query_groups && m.num_query_groups % *tp && *tp % m.num_query_groups)
    return false;
  if (ep && *ep > 1 && (m.num_moe_experts == 0 || m.num_moe_experts % *ep)) return false;
  int64_t split =
      layers + m.account_for_embedding_in_pipeline_split + m.account_for_loss_in_pipeline_split;
  int64_t stages_n = 0;
  if (!layout.empty()) {
    auto stages = reference_stages(layout);
    if (!stages || (pp && stages->size() % *pp)) return false;
    stages_n = static_cast<int64_t>(stages->size());
    if (pp && written_vp && *written_vp > 1 && stages_n / *pp != *written_vp) return false;
    int64_t t = 0, mt = 0, l = 0, e = 0;
    for (size_t i = 0; i < stages->size(); ++i)
      for (char c : (*stages)[i]) {
        t += c == 't';
        mt += c == 'm';
        if (c == 'L') l += i + 1 == stages->size() ? 1 : 100;
        if (c == 'E') e += i == 0 ? 1 : 100;
      }
    if (t != layers || mt != m.mtp_num_layers || l != 1 || e != 1) return false;
  } else if (!m.auto_layout_pairs.empty()) {
    if (pp && vp &&
        std::find(m.auto_layout_pairs.begin(), m.auto_layout_pairs.end(),
                  std::make_pair(*pp, or1(vp))) == m.auto_layout_pairs.end())
      return false;
  } else if (pp && *pp > 1) {
    if (split % *pp) return false;
    if (vp && *vp > 1 && (split / *pp) % *vp) return false;
  }
  if (layout.empty() && vp && pp && *vp > 1 && *pp <= 1) return false;
  if (cp && *cp > 1 && seq % (2 * *cp)) return false;
  bool all_known = tp && pp && cp && ep;
  if (all_known && gpus % (*tp * *pp * *cp) == 0) {
    int64_t etv = et ? *et : (m.expert_tensor_parallel_size ? *m.expert_tensor_parallel_size : *tp);
    if (gpus % (etv * *ep * *pp)) return false;
  }
  bool inter = pp && *pp > 1 && (layout.empty() ? (vp && *vp > 1) : stages_n > *pp);
  int64_t dp = tp && pp && cp ? gpus / (*tp * *pp * *cp) : 0;
  if (inter && mb > 0 && gb > 0 && dp > 0 && gb / (mb * dp) < *pp) return false;
  for (const std::string& r : rc) {
    if (r == "core_attn" || r == "layernorm" || r == "mlp") continue;
    if (r == "mla_up_proj" && m.multi_latent_attention) continue;
    if ((r == "moe" || r == "moe_act") && m.num_moe_experts) continue;
    if (r == "shared_experts" && m.moe_shared_experts) continue;
    return false;
  }
  bool impl_on = !(impl.empty() || impl == "none" || impl == "null");
  if (impl_on)
    for (const std::string& s : sc) {
      if (s == "full_iteration" || s == "attn") continue;
      if ((s == "moe" || s == "moe_router" || s == "moe_preprocess") && m.num_moe_experts) continue;
      if (s == "mamba" && m.kind == "hybrid") continue;
      bool dense = m.has_dense_mlp();
      if (m.is_moe() && !m.is_hybrid() && opt_int(a, "first_k_dense_replace"))
        dense = *opt_int(a, "first_k_dense_replace") > 0;
      if (s == "mlp" && dense) continue;
      return false;
    }
  if (offload > 0 && (offload >= layers || !rc.empty() || opt_int(a, "recompute_num_layers")))
    return false;
  return true;
}

// Compares the engine's valid set with the reference over every point of a space.
void expect_same_valid_set(const std::string& cmd_args, uint64_t expected_points,
                           const std::vector<std::string>& extra_fields = {}) {
  TestRun run = mb_run(cmd_args);
  std::vector<std::string> fields = kFields;
  fields.insert(fields.end(), extra_fields.begin(), extra_fields.end());
  ParamSpace space(run, fields);
  ASSERT_EQ(space.size(), expected_points);
  CompiledConstraints c = compile_megatron_bridge(run, space, builtin());
  std::vector<uint32_t> idx;
  uint64_t valid = 0, mismatches = 0;
  for (uint64_t p = 1; p <= space.size(); ++p) {
    space.decode(p, idx);
    TestRun point = apply_indices(run, space, idx);
    const Value& a = point.test.cmd_args;
    std::string recipe =
        a.find("model_recipe_name") ? a.find("model_recipe_name")->as_string() : "";
    const ModelShape* m = builtin().find(recipe);
    const Value* recipes = run.test.cmd_args.find("model_recipe_name");
    bool swept = recipes && recipes->is_array();
    bool expect = reference_cloudai_ok(a) && (!m || reference_model_ok(a, *m, swept));
    bool got = c.check(idx) == 0;
    valid += got;
    if (expect != got && mismatches++ < 5) {
      std::string desc;
      for (auto& [k, v] : space.action_of(idx)) desc += k + "=" + v.to_toml_inline() + " ";
      ADD_FAILURE() << "point " << p << " (" << desc << "): reference says "
                    << (expect ? "valid" : "invalid");
    }
  }
  EXPECT_EQ(mismatches, 0u);
  // Walking the space incrementally (only rules reading a changed axis re-checked) gives the
  // same violations as checking each point from scratch.
  CompiledConstraints::Evaluator ev(c);
  PointCursor cursor(space);
  size_t changed = 0;
  uint64_t walk_mismatches = 0;
  while (cursor.next(changed)) {
    ev.update(cursor.indices(), changed);
    if (ev.violations() != c.check(cursor.indices()) && walk_mismatches++ < 5)
      ADD_FAILURE() << "incremental walk differs at point " << cursor.point();
  }
  EXPECT_EQ(walk_mismatches, 0u);
  // A meaningful sample has both kinds of points.
  EXPECT_GT(valid, 0u);
  EXPECT_LT(valid, space.size());
}

TEST(ValidSet, ParallelismSpaceWithoutModelMatchesReference) {
  expect_same_valid_set(
      "model_recipe_name = 'my_model'\nnum_gpus = 8\ntp = [1, 2, 3, 8]\npp = [1, 2, 4]\n"
      "cp = [1, 2]\nvp = [1, 2]\nep = [1, 4, 8]\net = [1, 2]\nmb = [1, 3]\ngb = [16, 24]\n"
      "use_megatron_fsdp = [true, false]\nnum_distributed_optimizer_instances = [1, 2]\n"
      "activation_offload_layers = [0, 2]\nmoe_a2a_overlap = [true, false]\n",
      4 * 3 * 2 * 2 * 3 * 2 * 2 * 2 * 2 * 2 * 2 * 2);
}

TEST(ValidSet, CudaGraphSpaceWithoutModelMatchesReference) {
  expect_same_valid_set(
      "model_recipe_name = 'my_model'\npp = [1, 2]\n"
      "cuda_graph_impl = ['none', 'local', 'transformer_engine', 'bogus']\n"
      "cuda_graph_scope = ['', 'attn', 'full_iteration', 'moe,moe_router', 'moe_preprocess', "
      "'moe_router,moe_preprocess', \"['attn', 'mlp', 'moe_router']\", 'mamba']\n"
      "recompute_modules = ['core_attn', 'layernorm', 'moe', 'mlp', 'mla_up_proj,shared_experts', "
      "'']\nmoe_a2a_overlap = [true, false]\nactivation_offload_layers = [0, 2]\n"
      "use_megatron_fsdp = [true, false]\n",
      2 * 4 * 8 * 6 * 2 * 2 * 2);
}

TEST(ValidSet, DeepSeekNamesMatchReference) {
  expect_same_valid_set(
      "model_recipe_name = ['custom_deepseekv3', 'other']\nnum_gpus = 64\n"
      "pp = [1, 2, 4, 8, 16]\nvp = [1, 2, 4]\n",
      2 * 5 * 3);
}

TEST(ValidSet, Llama70bSpaceMatchesReference) {
  expect_same_valid_set(
      "model_recipe_name = 'llama3_70b'\nnum_gpus = [64, 96]\ntp = [1, 2, 4, 8, 16]\n"
      "pp = [1, 2, 3, 4, 5, 8]\ncp = [1, 2, 3]\nvp = [1, 2, 4, 5]\nmb = [1, 2]\ngb = [16, 128]\n"
      "activation_offload_layers = [0, 2]\nrecompute_modules = ['', 'core_attn']\n",
      2 * 5 * 6 * 3 * 4 * 2 * 2 * 2 * 2);
}

TEST(ValidSet, UnwrittenFieldsFromRecipeDefaultsMatchReference) {
  // H100: llama3_70b's bf16 recipe runs tp 4, pp 4, cp 2, vp 5 for whatever is not written;
  // fp8_cs has no cp and pp 8; b300 has pp 4 vp 5 only for fp8_mx. CloudAI's C19 prunes every
  // written vp > 1 here (its pp is the written one, none), so vp = 1 keeps points to compare.
  for (const char* dtype : {"bf16", "fp8_cs"})
    expect_same_valid_set(std::string("model_recipe_name = 'llama3_70b'\nnum_gpus = 64\n"
                                      "gpu_type = 'h100'\ncompute_dtype = '") +
                              dtype +
                              "'\nvp = [1, 2, 3, 5, 10]\nnum_layers = [80, 60, 40]\n"
                              "mb = [1, 2]\ngb = [4, 8, 16, 128]\n",
                          5 * 3 * 2 * 4, {"num_layers"});
}

TEST(ValidSet, QwenMoeSpaceMatchesReference) {
  expect_same_valid_set(
      "model_recipe_name = 'qwen3_30b_a3b'\nnum_gpus = 16\ntp = [1, 2, 4]\npp = [1, 2, 3]\n"
      "ep = [1, 2, 3, 8, 16]\net = [1, 2]\nvp = [1, 12, 5]\n"
      "cuda_graph_impl = ['none', 'transformer_engine']\n"
      "cuda_graph_scope = ['attn', 'mlp', 'moe_router,moe_preprocess', 'mamba']\n"
      "recompute_modules = ['moe_act', 'mla_up_proj', 'shared_experts']\n",
      3 * 3 * 5 * 2 * 3 * 2 * 4 * 3);
}

TEST(ValidSet, DeepSeekLayoutsMatchReference) {
  expect_same_valid_set(
      "model_recipe_name = 'deepseek_v3'\nnum_gpus = 256\npp = [1, 2, 4, 8, 16]\nvp = [1, 2, 4, "
      "8]\n"
      "pipeline_model_parallel_layout = ['', 'Et|(tt|)*30mL', 'Et*4|(t*4|)*14tmL', "
      "'Et|(tt|)*29mL', 'E(t|']\nep = [8, 64, 3]\n",
      5 * 4 * 5 * 3);
}

TEST(ValidSet, SweptRecipesMatchReference) {
  expect_same_valid_set(
      "model_recipe_name = ['llama3_8b', 'qwen3_30b_a3b', 'nemotronh_56b', 'unknown_x']\n"
      "num_gpus = 16\ntp = [1, 2, 4, 8, 16]\npp = [1, 2, 3, 4]\nep = [1, 2, 8]\ncp = [1, 2]\n"
      "cuda_graph_impl = 'transformer_engine'\ncuda_graph_scope = ['mamba', 'mlp', 'attn']\n",
      4 * 5 * 4 * 3 * 2 * 3);
}

TEST(ValidSet, ShapeOverridesMatchReference) {
  expect_same_valid_set(
      "model_recipe_name = ['deepseek_v3', 'qwen3_30b_a3b', 'llama3_8b']\nnum_gpus = [16, 24]\n"
      "num_layers = [30, 32, 61]\nseq_length = [4096, 4098]\ncp = [1, 2]\npp = [1, 2, 3]\n"
      "first_k_dense_replace = [0, 2]\ncuda_graph_impl = 'transformer_engine'\n"
      "cuda_graph_scope = ['mlp', 'attn']\nactivation_offload_layers = [0, 31]\n"
      "recompute_num_layers = [0, 1]\n"
      "pipeline_model_parallel_layout = ['', 'Et|(tt|)*30mL']\n",
      3 * 2 * 3 * 2 * 2 * 3 * 2 * 2 * 2 * 2 * 2);
}

}  // namespace
}  // namespace bp
