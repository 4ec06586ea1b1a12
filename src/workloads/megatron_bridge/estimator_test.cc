#include "workloads/megatron_bridge/estimator.h"

#include <gtest/gtest.h>

#include "config/toml_reader.h"
#include "core/scenario.h"
#include "core/system.h"
#include "sweep/prune_log.h"
#include "testkit/testkit.h"
#include "workloads/megatron_bridge/constraints.h"

namespace bp {
namespace {

// A catalog of the fields the catalog parser knows today (Megatron's defaults fill the rest:
// ffn = 4h, kv_channels = h / heads, no gated unit).
const ModelCatalog& catalog() {
  static const ModelCatalog c = ModelCatalog::parse(read_toml_string(R"(
[big]
kind = "dense"
num_layers = 126
hidden_size = 16384
num_attention_heads = 128
num_query_groups = 8
seq_length = 8192
vocab_size = 128256

[small]
kind = "dense"
num_layers = 32
hidden_size = 4096
num_attention_heads = 32
num_query_groups = 8
seq_length = 8192
vocab_size = 128256
)",
                                                                     "catalog.toml"));
  return c;
}

TestRun run_of(const std::string& cmd_args, OomRule rule = OomRule::kPrune) {
  TestRun run;
  run.id = "case";
  run.test.name = "mb";
  run.test.test_template_name = "MegatronBridge";
  run.test.cmd_args = read_toml_string(cmd_args, "test.toml");
  run.test.oom_rule = rule;
  return run;
}

const std::string kBigOnOneNode =
    "model_recipe_name = 'big'\ngpu_type = 'h100'\nnum_gpus = 8\ntp = 1\npp = 1\ncp = 1\n"
    "vp = 1\nep = 1\nmb = 1\ngb = 64\n";

std::vector<Violation> violations(const TestRun& run, const System* system = nullptr) {
  ParamSpace space = ParamSpace::of(run);
  CompiledConstraints c = compile_megatron_bridge(run, space, catalog(), system);
  std::vector<uint32_t> idx(space.axes().size(), 0);
  return c.explain(idx);
}

TEST(MemoryRule, PrunesAModelThatCannotFitWithTheNumbers) {
  std::vector<Violation> v = violations(run_of(kBigOnOneNode));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule_id, "E1");
  EXPECT_EQ(v[0].rule_name, "predicted out of memory");
  EXPECT_NE(v[0].message.find("GiB of 79.6 GiB: weights "), std::string::npos) << v[0].message;
  EXPECT_NE(v[0].message.find(", optimizer "), std::string::npos);
  EXPECT_NE(v[0].message.find(", activations "), std::string::npos);
}

TEST(MemoryRule, FitsWhenSpreadOverEnoughGpus) {
  EXPECT_TRUE(violations(run_of("model_recipe_name = 'small'\ngpu_type = 'h100'\nnum_gpus = 8\n"
                                "tp = 1\npp = 1\ncp = 1\nvp = 1\nep = 1\nmb = 1\ngb = 8\n"))
                  .empty());
}

TEST(MemoryRule, WarnOffAndUnknownNeverPrune) {
  EXPECT_TRUE(violations(run_of(kBigOnOneNode, OomRule::kWarn)).empty());
  EXPECT_TRUE(violations(run_of(kBigOnOneNode, OomRule::kOff)).empty());
  // A parallelism neither written nor known from the recipe: no estimate, no prune.
  EXPECT_TRUE(
      violations(run_of("model_recipe_name = 'big'\ngpu_type = 'h100'\nnum_gpus = 8\n")).empty());
  // A GPU type without a built-in figure.
  std::string other = kBigOnOneNode;
  other.replace(other.find("h100"), 4, "mi300x");
  EXPECT_TRUE(violations(run_of(other)).empty());
}

TEST(MemoryRule, SystemGpuMemoryOverridesTheGpuType) {
  System system;
  system.gpu_memory_gib = 100000;
  EXPECT_TRUE(violations(run_of(kBigOnOneNode), &system).empty());
  system.gpu_memory_gib = 16;
  std::vector<Violation> v = violations(run_of(kBigOnOneNode), &system);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].message.find("GiB of 16.0 GiB"), std::string::npos) << v[0].message;
}

TEST(MemoryRule, WarningTwinFlagsWhatRunsBeyondOrNearTheLimit) {
  TestRun warn = run_of(kBigOnOneNode, OomRule::kWarn);
  ParamSpace space = ParamSpace::of(warn);
  CompiledConstraints w = compile_memory_warnings(warn, space, catalog());
  ASSERT_FALSE(w.empty());
  std::vector<Violation> v = w.explain({});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule_name, "near the GPU memory limit");
  EXPECT_TRUE(
      compile_memory_warnings(run_of(kBigOnOneNode, OomRule::kOff), space, catalog()).empty());
}

// conf/test/h100/megatron_bridge_llama3_8b.toml writes tp, pp, cp, mb and gb but not vp, and
// the catalog does not know the v0.3.0 recipe's vp for h100 bf16: the estimate counts no
// virtual pipeline (the least activation memory) instead of giving none.
TEST(Estimator, ShippedLlama3_8bExampleGetsAnEstimate) {
  System system;
  Estimate e = estimate_megatron_bridge(
      run_of("model_family_name = 'llama'\nmodel_recipe_name = 'llama3_8b'\ngpu_type = 'h100'\n"
             "compute_dtype = 'bf16'\nnum_gpus = 24\ntp = 2\npp = 3\ncp = 2\nmb = 1\n"
             "gb = 192\n"),
      system, ModelCatalog::global());
  ASSERT_TRUE(e.memory);
  ASSERT_TRUE(e.step_time_s);
  std::map<std::string, Value> params(e.params.begin(), e.params.end());
  EXPECT_EQ(params.at("vp").as_int(), 1);
  EXPECT_EQ(params.at("ep").as_int(), 1);
  EXPECT_EQ(params.at("num_gpus").as_int(), 24);
  EXPECT_LT(e.memory->total(), *e.gpu_memory_gib);
}

// The catalog's real shapes. Llama3.1 405B on one H100 node without model parallelism: bf16
// weights alone are 756 GiB per GPU, far beyond 79.6 GiB.
TEST(MemoryRule, Llama405bOnOneH100NodeIsPrunedWithTheNumbers) {
  TestRun run = run_of(
      "model_family_name = 'llama'\nmodel_recipe_name = 'llama31_405b'\ngpu_type = 'h100'\n"
      "compute_dtype = 'fp8_cs'\nnum_gpus = 8\ntp = 1\npp = 1\ncp = 1\nvp = 1\nmb = 1\n"
      "gb = 64\n");
  ParamSpace space = ParamSpace::of(run);
  CompiledConstraints c = compile_megatron_bridge(run, space, ModelCatalog::global());
  std::vector<Violation> v = c.explain(std::vector<uint32_t>(space.axes().size(), 0));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule_id, "E1");
  EXPECT_EQ(v[0].message.rfind("needs ", 0), 0u) << v[0].message;
  EXPECT_NE(v[0].message.find(" GiB of 79.6 GiB: weights 756.0, gradients 756.0, "),
            std::string::npos)
      << v[0].message;
}

// Megatron-Bridge's Llama3-70B FP8 SFT on 32 H100 (tp 4, pp 4, vp 5, mb 1, gb 32, 4096 tokens,
// Transformer Engine graphs of the MLP) ran out of memory from fragmentation: it is not pruned,
// and plan's warnings name it near the limit.
TEST(MemoryRule, Llama70bSftThatRanOutFromFragmentationIsNearTheLimit) {
  TestRun run = run_of(
      "model_family_name = 'llama'\nmodel_recipe_name = 'llama3_70b'\ngpu_type = 'h100'\n"
      "compute_dtype = 'fp8_cs'\nnum_gpus = 32\ntp = 4\npp = 4\ncp = 1\nvp = 5\nmb = 1\n"
      "gb = 32\nseq_length = 4096\ncuda_graph_impl = 'transformer_engine'\n"
      "cuda_graph_scope = 'mlp'\n");
  ParamSpace space = ParamSpace::of(run);
  const std::vector<uint32_t> point(space.axes().size(), 0);
  EXPECT_TRUE(compile_megatron_bridge(run, space, ModelCatalog::global()).explain(point).empty());
  std::vector<Violation> w =
      compile_memory_warnings(run, space, ModelCatalog::global()).explain(point);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].rule_name, "near the GPU memory limit");
  EXPECT_NE(w[0].message.find(" GiB of 79.6 GiB"), std::string::npos) << w[0].message;
}

TEST(MemoryRule, SweepPrunesOnlyTheSmallParallelisms) {
  TestRun run = run_of(
      "model_recipe_name = 'big'\ngpu_type = 'h100'\nnum_gpus = 896\ntp = [1, 8]\n"
      "pp = [1, 14]\ncp = 1\nvp = 1\nep = 1\nmb = 1\ngb = 64\n");
  ParamSpace space = ParamSpace::of(run);
  CompiledConstraints c = compile_megatron_bridge(run, space, catalog());
  std::vector<std::string> e1;
  for (uint64_t p = 1; p <= space.size(); ++p) {
    std::vector<uint32_t> idx;
    space.decode(p, idx);
    for (const Violation& v : c.explain(idx))
      if (v.rule_id == "E1") e1.push_back(describe_action(space.action_of(idx)));
  }
  // Only tp = 8 with pp = 14 (3.6 B parameters per GPU) fits.
  EXPECT_EQ(e1.size(), 3u);
  for (const std::string& point : e1) EXPECT_EQ(point.find("tp=8 pp=14"), std::string::npos);
  // A walk that re-checks E1 only when a slot it reads changed agrees with full evaluation.
  CompiledConstraints::Evaluator ev(c);
  PointCursor cursor(space);
  size_t changed = 0;
  while (cursor.next(changed)) {
    ev.update(cursor.indices(), changed);
    EXPECT_EQ(ev.violations(), c.check(cursor.indices())) << cursor.point();
  }
}

TEST(Estimator, GivesMemoryAndResolvedParameters) {
  System system;
  Estimate e = estimate_megatron_bridge(run_of(kBigOnOneNode), system, catalog());
  ASSERT_TRUE(e.memory);
  ASSERT_TRUE(e.gpu_memory_gib);
  EXPECT_NEAR(*e.gpu_memory_gib, 79.6, 0.01);
  EXPECT_GT(e.memory->total(), 1000);
  // Megatron's count for this shape (ffn = 4h, not gated, tp 1, seq 8192): 6·L·(attention +
  // MLP) + 6·h·V_pad per token.
  ASSERT_TRUE(e.model_flops_per_token);
  EXPECT_NEAR(*e.model_flops_per_token, 2168815878144.0, 1.0);
  ASSERT_TRUE(e.step_time_s);
  ASSERT_TRUE(e.tokens_per_s_per_gpu);
  // tokens/s/GPU follow from the step time: gb · seq / (step · GPUs).
  EXPECT_NEAR(*e.tokens_per_s_per_gpu * *e.step_time_s * 8, 64.0 * 8192, 1e-6 * 64 * 8192);
  std::map<std::string, Value> params(e.params.begin(), e.params.end());
  EXPECT_EQ(params.at("tp").as_int(), 1);
  EXPECT_EQ(params.at("et").as_int(), 1);  // Megatron's default: tp
  EXPECT_EQ(params.at("seq_length").as_int(), 8192);
  EXPECT_EQ(params.at("gpu_type").as_string(), "h100");
  EXPECT_EQ(params.at("compute_dtype").as_string(), "bf16");
  Estimate unknown =
      estimate_megatron_bridge(run_of("model_recipe_name = 'nope'\n"), system, catalog());
  EXPECT_FALSE(unknown.memory);
  using Params = std::map<std::string, Value>;
  Params unknown_params(unknown.params.begin(), unknown.params.end());
  EXPECT_TRUE(unknown_params.at("tp").is_none());
}

// What a point of a built-in recipe resolves to when the user writes only some fields.
Estimate builtin_estimate(const std::string& cmd_args) {
  System system;
  return estimate_megatron_bridge(run_of("task = 'pretrain'\n" + cmd_args), system,
                                  ModelCatalog::global());
}

std::map<std::string, Value> params_of(const Estimate& e) {
  return {e.params.begin(), e.params.end()};
}

// Hybrid (Mamba) models get a memory estimate: Nemotron 3 Nano as published on 16 H100 (ep 8
// from the recipe), and the same point with every parameter on each GPU out of memory.
TEST(Estimator, HybridModelsHaveMemory) {
  const std::string nano =
      "model_recipe_name = 'nemotron_3_nano'\ngpu_type = 'h100'\ncompute_dtype = 'fp8_cs'\n"
      "num_gpus = 16\nmb = 1\ngb = 1024\n";
  Estimate e = builtin_estimate(nano);
  ASSERT_TRUE(e.memory);
  EXPECT_EQ(params_of(e).at("ep").as_int(), 8);
  EXPECT_LT(e.memory->total(), *e.gpu_memory_gib);
  EXPECT_GT(e.memory->weights, 5);  // 31.6 B parameters, the routed ones over 8 GPUs
  Estimate whole = builtin_estimate(nano + "ep = 1\n");
  ASSERT_TRUE(whole.memory);
  EXPECT_GT(whole.memory->total(), *whole.gpu_memory_gib);
}

// An unwritten ep is the recipe's where the catalog states it (Kimi K2: 64 on GB200, with the
// recipe's mla_up_proj recompute); pp, which the recipe's own layout fixes, counts only written:
// without it there is no estimate.
TEST(Estimator, UnwrittenExpertParallelismIsTheRecipes) {
  const std::string kimi =
      "model_recipe_name = 'kimi_k2'\ngpu_type = 'gb200'\nnum_gpus = 256\nmb = 1\ngb = 2048\n";
  Estimate e = builtin_estimate(kimi + "pp = 4\nvp = 4\n");
  ASSERT_TRUE(e.memory);
  EXPECT_EQ(params_of(e).at("ep").as_int(), 64);
  EXPECT_EQ(params_of(e).at("tp").as_int(), 1);
  // core_attn: flash attention keeps no scores anyway, so nothing the memory model counts.
  Estimate no_recompute =
      builtin_estimate(kimi + "pp = 4\nvp = 4\nrecompute_modules = 'core_attn'\n");
  ASSERT_TRUE(no_recompute.memory);
  EXPECT_LT(e.memory->activations, no_recompute.memory->activations);
  EXPECT_FALSE(builtin_estimate(kimi).memory);
  EXPECT_TRUE(params_of(builtin_estimate(kimi)).at("pp").is_none());
}

// GPT-OSS 120B on H100 recomputes layernorm and moe_act unless told otherwise (both Megatron-
// Bridge v0.3.0's and v0.6.0's recipes): fewer activations than with nothing recomputed.
TEST(Estimator, RecipeRecomputeAppliesWhenUnwritten) {
  const std::string oss =
      "model_recipe_name = 'gpt_oss_120b'\ngpu_type = 'h100'\nnum_gpus = 64\nmb = 1\n"
      "gb = 1280\n";
  Estimate e = builtin_estimate(oss);
  Estimate none = builtin_estimate(oss + "recompute_modules = 'core_attn'\n");
  ASSERT_TRUE(e.memory && none.memory);
  EXPECT_EQ(params_of(e).at("pp").as_int(), 4);
  EXPECT_EQ(params_of(e).at("ep").as_int(), 8);
  EXPECT_LT(e.memory->activations, none.memory->activations);
  EXPECT_DOUBLE_EQ(e.memory->weights, none.memory->weights);
}

// Two catalogs whose entries share a name and a line but not their layers estimate differently
// (the memory rule keeps each shape it compiled with).
TEST(Estimator, ShapesThatDifferOnlyInTheirHybridLayersAreNotConfused) {
  auto catalog_with = [](const std::string& pattern) {
    return ModelCatalog::parse(read_toml_string(
        "[h]\nkind = 'hybrid'\nnum_layers = 4\nhidden_size = 1024\nnum_attention_heads = 8\n"
        "num_query_groups = 8\nseq_length = 4096\nvocab_size = 32000\nffn_hidden_size = 4096\n"
        "mamba_state_dim = 128\nmamba_head_dim = 64\nmamba_num_groups = 8\n"
        "hybrid_layer_pattern = '" +
            pattern + "'\n",
        "same.toml"));
  };
  const ModelCatalog mamba = catalog_with("MMM*"), mlp = catalog_with("M-M*");
  const TestRun point = run_of(
      "model_recipe_name = 'h'\ngpu_type = 'h100'\nnum_gpus = 8\ntp = 1\n"
      "pp = 1\ncp = 1\nvp = 1\nep = 1\nmb = 1\ngb = 8\n");
  System system;
  Estimate a = estimate_megatron_bridge(point, system, mamba);
  Estimate b = estimate_megatron_bridge(point, system, mlp);
  ASSERT_TRUE(a.memory && b.memory);
  EXPECT_NE(a.memory->weights, b.memory->weights);
}

TEST(MegatronBridgeEstimator, SaysWhichVersionPredictedAndWhatTheStoreFilesTheRunUnder) {
  System system;
  Estimate e = estimate_megatron_bridge(run_of(kBigOnOneNode), system, catalog());
  EXPECT_EQ(e.estimator_version, "megatron_bridge/3");
  EXPECT_EQ(e.model, "big");
  EXPECT_EQ(e.gpu_type, "h100");
  // As RunFacts: the family when no recipe is written, nothing for an unwritten GPU type.
  Estimate family =
      estimate_megatron_bridge(run_of("model_family_name = 'llama'\n"), system, catalog());
  EXPECT_EQ(family.model, "llama");
  EXPECT_EQ(family.gpu_type, "");
}

TEST(MegatronBridgeEstimator, ReadsWhatAFinishedRunMeasured) {
  testkit::TempDir dir;
  const Estimator& estimator = megatron_bridge_estimator();
  EXPECT_FALSE(estimator.measured(dir.path()).step_time_s);  // no log
  testkit::write_file(
      dir.path() / "launcher.log",
      "Step Time : 4.0s GPU utilization: 400.0MODEL_TFLOP/s/GPU\n"
      "Step Time : 6.0s GPU utilization: 400.0MODEL_TFLOP/s/GPU\n"
      "[Rank 0] (after 1 iterations) memory (GB) | mem-allocated-gigabytes: 41.377 | "
      "mem-active-gigabytes: 41.377 | mem-inactive-gigabytes: 0.81234 | mem-reserved-gigabytes: "
      "61.843 | mem-max-allocated-gigabytes: 55.902 | mem-max-active-gigabytes: 55.902 | "
      "mem-max-inactive-gigabytes: 3.2178 | mem-max-reserved-gigabytes: 61.843 | "
      "mem-alloc-retires: 0 | mem-allocated-count: 8731\n");
  MeasuredRun m = estimator.measured(dir.path());
  EXPECT_DOUBLE_EQ(m.step_time_s.value_or(0), 5.0);
  ASSERT_TRUE(m.memory);
  EXPECT_NEAR(m.memory->max_allocated_gib.value_or(0), 55.902e9 / (1 << 30), 1e-9);
  EXPECT_NEAR(m.memory->max_reserved_gib.value_or(0), 61.843e9 / (1 << 30), 1e-9);
}

}  // namespace
}  // namespace bp
