#include "workloads/megatron_bridge/model_flops.h"

#include <gtest/gtest.h>

#include <string>

#include "config/toml_reader.h"
#include "workloads/megatron_bridge/model_catalog.h"

namespace bp {
namespace {

// Shapes for the formula paths no catalog model takes (hybrid sliding windows, MLA without q
// compression, latent MoE in a transformer, moe_layer_freq, MTP after a dense layer).
const std::string kSyntheticModels =
    std::string(BENCHPILOT_SOURCE_DIR) + "/tests/data/estimator/flops_synthetic_models.toml";

struct ReferenceRow {
  const char* model;
  FlopsRules rules;
  int64_t tp;
  int64_t seq_length;  // 0: the catalog's
  int64_t mtp;         // -1: the catalog's
  double flops_per_token;
};

// Megatron-Bridge's own num_floating_point_operations(cfg, batch_size=1) / seq_length on the
// catalog's shapes and the made-up ones of kSyntheticModels, at v0.6.0 (kFrom0_5) and v0.4.2
// (kBefore0_5). Regenerate with
//   python3 tools/estimator/flops_reference.py <Megatron-Bridge checkout>
const ReferenceRow kReference[] = {
    // clang-format off
    {"llama3_8b", FlopsRules::kFrom0_5, 1, 0, -1, 51470401536.0},  // v0.6.0
    {"llama3_8b", FlopsRules::kFrom0_5, 8, 0, -1, 51489275904.0},  // v0.6.0
    {"llama3_70b", FlopsRules::kFrom0_5, 1, 0, -1, 449222541312.0},  // v0.6.0
    {"llama3_70b", FlopsRules::kFrom0_5, 8, 0, -1, 449260290048.0},  // v0.6.0
    {"llama31_405b", FlopsRules::kFrom0_5, 1, 0, -1, 2523955986432.0},  // v0.6.0
    {"llama31_405b", FlopsRules::kFrom0_5, 8, 0, -1, 2524031483904.0},  // v0.6.0
    {"qwen3_30b_a3b", FlopsRules::kFrom0_5, 1, 0, -1, 23006281728.0},  // v0.6.0
    {"qwen3_30b_a3b", FlopsRules::kFrom0_5, 8, 0, -1, 23014146048.0},  // v0.6.0
    {"qwen3_235b_a22b", FlopsRules::kFrom0_5, 1, 0, -1, 148034813952.0},  // v0.6.0
    {"qwen3_235b_a22b", FlopsRules::kFrom0_5, 8, 0, -1, 148050542592.0},  // v0.6.0
    {"deepseek_v3", FlopsRules::kFrom0_5, 1, 0, -1, 259992950784.0},  // v0.6.0
    {"deepseek_v3", FlopsRules::kFrom0_5, 8, 0, -1, 260323252224.0},  // v0.6.0
    {"gpt_oss_120b", FlopsRules::kFrom0_5, 1, 0, -1, 32630404608.0},  // v0.6.0
    {"gpt_oss_120b", FlopsRules::kFrom0_5, 8, 0, -1, 32641463808.0},  // v0.6.0
    {"gpt_oss_20b", FlopsRules::kFrom0_5, 1, 0, -1, 22911869952.0},  // v0.6.0
    {"gpt_oss_20b", FlopsRules::kFrom0_5, 8, 0, -1, 22922929152.0},  // v0.6.0
    {"nemotronh_56b", FlopsRules::kFrom0_5, 1, 0, -1, 340241940480.0},  // v0.6.0
    {"nemotronh_56b", FlopsRules::kFrom0_5, 8, 0, -1, 340241940480.0},  // v0.6.0
    {"nemotron_3_nano", FlopsRules::kFrom0_5, 1, 0, -1, 22278094848.0},  // v0.6.0
    {"nemotron_3_nano", FlopsRules::kFrom0_5, 8, 0, -1, 22278094848.0},  // v0.6.0
    {"nemotron_3_5_lightning", FlopsRules::kFrom0_5, 1, 0, -1, 28147236864.0},  // v0.6.0
    {"nemotron_3_5_lightning", FlopsRules::kFrom0_5, 8, 0, -1, 28147236864.0},  // v0.6.0
    {"nemotron_3_super", FlopsRules::kFrom0_5, 1, 0, -1, 84727037952.0},  // v0.6.0
    {"nemotron_3_super", FlopsRules::kFrom0_5, 8, 0, -1, 84727037952.0},  // v0.6.0
    {"kimi_k2", FlopsRules::kFrom0_5, 1, 0, -1, 204477394944.0},  // v0.6.0
    {"kimi_k2", FlopsRules::kFrom0_5, 8, 0, -1, 204477394944.0},  // v0.6.0
    {"qwen3_next_80b_a3b", FlopsRules::kFrom0_5, 1, 0, -1, 22739681280.0},  // v0.6.0
    {"qwen3_next_80b_a3b", FlopsRules::kFrom0_5, 8, 0, -1, 22747545600.0},  // v0.6.0
    {"synthetic_hybrid_windowed", FlopsRules::kFrom0_5, 1, 0, -1, 356255616.0},  // v0.6.0
    {"synthetic_hybrid_windowed", FlopsRules::kFrom0_5, 8, 0, -1, 360974208.0},  // v0.6.0
    {"synthetic_mla_no_q_lora", FlopsRules::kFrom0_5, 1, 0, -1, 1680654336.0},  // v0.6.0
    {"synthetic_mla_no_q_lora", FlopsRules::kFrom0_5, 8, 0, -1, 1683013632.0},  // v0.6.0
    {"synthetic_latent_moe_windowed", FlopsRules::kFrom0_5, 1, 0, -1, 710741376.0},  // v0.6.0
    {"synthetic_latent_moe_windowed", FlopsRules::kFrom0_5, 8, 0, -1, 710741376.0},  // v0.6.0
    {"llama3_8b", FlopsRules::kFrom0_5, 2, 16384, -1, 57912852480.0},  // v0.6.0
    {"deepseek_v3", FlopsRules::kFrom0_5, 4, 0, 0, 249977204736.0},  // v0.6.0
    {"gpt_oss_120b", FlopsRules::kFrom0_5, 1, 131072, -1, 88802224560.0},  // v0.6.0
    {"gpt_oss_120b", FlopsRules::kFrom0_5, 1, 64, -1, 30763597824.0},  // v0.6.0
    {"nemotron_3_5_lightning", FlopsRules::kFrom0_5, 1, 0, 1, 25212665856.0},  // v0.6.0
    {"llama3_8b", FlopsRules::kBefore0_5, 1, 0, -1, 51470401536.0},  // v0.4.2
    {"llama3_8b", FlopsRules::kBefore0_5, 8, 0, -1, 51489275904.0},  // v0.4.2
    {"llama3_70b", FlopsRules::kBefore0_5, 1, 0, -1, 449222541312.0},  // v0.4.2
    {"llama3_70b", FlopsRules::kBefore0_5, 8, 0, -1, 449260290048.0},  // v0.4.2
    {"llama31_405b", FlopsRules::kBefore0_5, 1, 0, -1, 2523955986432.0},  // v0.4.2
    {"llama31_405b", FlopsRules::kBefore0_5, 8, 0, -1, 2524031483904.0},  // v0.4.2
    {"qwen3_30b_a3b", FlopsRules::kBefore0_5, 1, 0, -1, 23006281728.0},  // v0.4.2
    {"qwen3_30b_a3b", FlopsRules::kBefore0_5, 8, 0, -1, 23014146048.0},  // v0.4.2
    {"qwen3_235b_a22b", FlopsRules::kBefore0_5, 1, 0, -1, 148034813952.0},  // v0.4.2
    {"qwen3_235b_a22b", FlopsRules::kBefore0_5, 8, 0, -1, 148050542592.0},  // v0.4.2
    {"deepseek_v3", FlopsRules::kBefore0_5, 1, 0, -1, 259992950784.0},  // v0.4.2
    {"deepseek_v3", FlopsRules::kBefore0_5, 8, 0, -1, 260323252224.0},  // v0.4.2
    {"gpt_oss_120b", FlopsRules::kBefore0_5, 1, 0, -1, 27164491776.0},  // v0.4.2
    {"gpt_oss_120b", FlopsRules::kBefore0_5, 8, 0, -1, 27175550976.0},  // v0.4.2
    {"gpt_oss_20b", FlopsRules::kBefore0_5, 1, 0, -1, 19267928064.0},  // v0.4.2
    {"gpt_oss_20b", FlopsRules::kBefore0_5, 8, 0, -1, 19278987264.0},  // v0.4.2
    {"nemotronh_56b", FlopsRules::kBefore0_5, 1, 0, -1, 340241940480.0},  // v0.4.2
    {"nemotronh_56b", FlopsRules::kBefore0_5, 8, 0, -1, 340241940480.0},  // v0.4.2
    {"nemotron_3_nano", FlopsRules::kBefore0_5, 1, 0, -1, 22278094848.0},  // v0.4.2
    {"nemotron_3_nano", FlopsRules::kBefore0_5, 8, 0, -1, 22278094848.0},  // v0.4.2
    {"nemotron_3_5_lightning", FlopsRules::kBefore0_5, 1, 0, -1, 28147236864.0},  // v0.4.2
    {"nemotron_3_5_lightning", FlopsRules::kBefore0_5, 8, 0, -1, 28147236864.0},  // v0.4.2
    {"nemotron_3_super", FlopsRules::kBefore0_5, 1, 0, -1, 84727037952.0},  // v0.4.2
    {"nemotron_3_super", FlopsRules::kBefore0_5, 8, 0, -1, 84727037952.0},  // v0.4.2
    {"kimi_k2", FlopsRules::kBefore0_5, 1, 0, -1, 204477394943.99997},  // v0.4.2
    {"kimi_k2", FlopsRules::kBefore0_5, 8, 0, -1, 204477394943.99997},  // v0.4.2
    {"qwen3_next_80b_a3b", FlopsRules::kBefore0_5, 1, 0, -1, 22135701504.0},  // v0.4.2
    {"qwen3_next_80b_a3b", FlopsRules::kBefore0_5, 8, 0, -1, 22143565824.0},  // v0.4.2
    {"synthetic_hybrid_windowed", FlopsRules::kBefore0_5, 1, 0, -1, 380338176.0},  // v0.4.2
    {"synthetic_hybrid_windowed", FlopsRules::kBefore0_5, 8, 0, -1, 385056768.0},  // v0.4.2
    {"synthetic_mla_no_q_lora", FlopsRules::kBefore0_5, 1, 0, -1, 1680654336.0},  // v0.4.2
    {"synthetic_mla_no_q_lora", FlopsRules::kBefore0_5, 8, 0, -1, 1683013632.0},  // v0.4.2
    {"synthetic_latent_moe_windowed", FlopsRules::kBefore0_5, 1, 0, -1, 1038090240.0},  // v0.4.2
    {"synthetic_latent_moe_windowed", FlopsRules::kBefore0_5, 8, 0, -1, 1038090240.0},  // v0.4.2
    {"llama3_8b", FlopsRules::kBefore0_5, 2, 16384, -1, 57912852480.0},  // v0.4.2
    {"deepseek_v3", FlopsRules::kBefore0_5, 4, 0, 0, 249977204736.0},  // v0.4.2
    {"gpt_oss_120b", FlopsRules::kBefore0_5, 1, 131072, -1, 139504730112.0},  // v0.4.2
    {"gpt_oss_120b", FlopsRules::kBefore0_5, 1, 64, -1, 23597236224.0},  // v0.4.2
    {"nemotron_3_5_lightning", FlopsRules::kBefore0_5, 1, 0, 1, 25212665856.0},  // v0.4.2
    // clang-format on
};

TEST(ModelFlops, EqualsMegatronBridgesCountForEveryCatalogModel) {
  const ModelCatalog catalog = ModelCatalog::load(kSyntheticModels);
  int models_with_a_count = 0;
  for (const ModelShape& m : catalog.models())
    if (model_flops_per_token(m, FlopsSettings{})) ++models_with_a_count;
  int rows_at_catalog_settings = 0;
  for (const ReferenceRow& row : kReference) {
    SCOPED_TRACE(std::string(row.model) + " tp " + std::to_string(row.tp) + " seq " +
                 std::to_string(row.seq_length) + " mtp " + std::to_string(row.mtp) +
                 (row.rules == FlopsRules::kBefore0_5 ? " (before v0.5.0)" : ""));
    const ModelShape* m = catalog.find(row.model);
    ASSERT_NE(m, nullptr);
    FlopsSettings settings;
    settings.tp = row.tp;
    settings.seq_length = row.seq_length;
    settings.rules = row.rules;
    if (row.mtp >= 0) settings.mtp_num_layers = row.mtp;
    const std::optional<double> flops = model_flops_per_token(*m, settings);
    ASSERT_TRUE(flops.has_value());
    EXPECT_NEAR(*flops / row.flops_per_token, 1.0, 1e-9);
    if (row.tp == 1 && row.seq_length == 0 && row.mtp < 0 && row.rules == FlopsRules::kFrom0_5)
      ++rows_at_catalog_settings;
  }
  // Every model the count applies to is pinned.
  EXPECT_EQ(rows_at_catalog_settings, models_with_a_count);
  EXPECT_GE(models_with_a_count, 17);
}

TEST(ModelFlops, PublishedFiguresOfMegatronBridge) {
  // docs/performance-summary.md: GPT-OSS 120B gives 27.2 GFLOP per token up to the 26.04
  // containers (v0.4 rules) and 32.6 from 26.06 on (v0.5+: three GEMMs for its gated
  // quick-GELU, the mean sliding window).
  const ModelCatalog catalog = ModelCatalog::load("");
  const ModelShape& oss = *catalog.find("gpt_oss_120b");
  FlopsSettings before;
  before.rules = FlopsRules::kBefore0_5;
  EXPECT_NEAR(*model_flops_per_token(oss, before) / 1e9, 27.2, 0.05);
  EXPECT_NEAR(*model_flops_per_token(oss, FlopsSettings{}) / 1e9, 32.6, 0.05);
  // Llama3 8B: 1933 TFLOP/s/GPU-s / 37556 tokens/s/GPU-s (v0.3.0 table) = 5.147e10.
  EXPECT_NEAR(*model_flops_per_token(*catalog.find("llama3_8b"), FlopsSettings{}) / 5.147e10, 1.0,
              1e-3);
}

TEST(ModelFlops, MovesWithTensorParallelismThroughTheVocabularyPadding) {
  const ModelCatalog catalog = ModelCatalog::load("");
  const ModelShape& llama = *catalog.find("llama3_8b");
  FlopsSettings tp1, tp8;
  tp8.tp = 8;
  const double extra_vocab = static_cast<double>(*padded_vocab_size(128256, 128, 8) - 128256);
  EXPECT_DOUBLE_EQ(*model_flops_per_token(llama, tp8) - *model_flops_per_token(llama, tp1),
                   6.0 * 4096 * extra_vocab);
}

TEST(ModelFlops, PaddedVocabSize) {
  EXPECT_EQ(padded_vocab_size(128256, 128, 1), 128256);
  EXPECT_EQ(padded_vocab_size(128256, 128, 8), 129024);
  EXPECT_EQ(padded_vocab_size(129280, 1280, 2), 130560);
  EXPECT_EQ(padded_vocab_size(1, 1, 1), 1);
  EXPECT_FALSE(padded_vocab_size(0, 128, 1));
  EXPECT_FALSE(padded_vocab_size(128256, 0, 1));
  EXPECT_FALSE(padded_vocab_size(128256, 128, 0));
}

TEST(ModelFlops, RulesOfAVersion) {
  EXPECT_EQ(flops_rules_for_version("0.4.2"), FlopsRules::kBefore0_5);
  EXPECT_EQ(flops_rules_for_version("v0.3.0"), FlopsRules::kBefore0_5);
  EXPECT_EQ(flops_rules_for_version("0.5.0"), FlopsRules::kFrom0_5);
  EXPECT_EQ(flops_rules_for_version("v0.6.0rc1"), FlopsRules::kFrom0_5);
  EXPECT_EQ(flops_rules_for_version("1.0"), FlopsRules::kFrom0_5);
  EXPECT_EQ(flops_rules_for_version(""), FlopsRules::kFrom0_5);
  EXPECT_EQ(flops_rules_for_version("main"), FlopsRules::kFrom0_5);
}

ModelShape parse_one(const std::string& toml) {
  return ModelCatalog::parse(read_toml_string(toml, "u.toml")).models().at(0);
}

TEST(ModelFlops, NoFigureWhenTheShapeLacksAField) {
  const ModelCatalog catalog = ModelCatalog::load("");
  EXPECT_FALSE(model_flops_per_token(*catalog.find("wan_14b"), FlopsSettings{}));  // no vocab
  const std::string dense =
      "[m]\nnum_layers = 2\nnum_attention_heads = 4\nhidden_size = 256\nvocab_size = 1000\n";
  EXPECT_FALSE(model_flops_per_token(parse_one(dense), FlopsSettings{}));  // no seq_length
  FlopsSettings seq;
  seq.seq_length = 128;
  EXPECT_TRUE(model_flops_per_token(parse_one(dense), seq));
  // MLA without its ranks, MoE without top-k, Mamba layers without their dimensions.
  EXPECT_FALSE(model_flops_per_token(parse_one(dense + "multi_latent_attention = true\n"), seq));
  EXPECT_FALSE(
      model_flops_per_token(parse_one(dense + "kind = \"moe\"\nnum_moe_experts = 8\n"), seq));
  EXPECT_FALSE(model_flops_per_token(
      parse_one(dense + "kind = \"hybrid\"\nhybrid_layer_pattern = \"M*\"\n"), seq));
  EXPECT_TRUE(model_flops_per_token(
      parse_one(dense + "kind = \"hybrid\"\nhybrid_layer_pattern = \"M*\"\nmamba_state_dim = 16\n"
                        "mamba_head_dim = 64\nmamba_num_groups = 1\n"),
      seq));
}

TEST(ModelFlops, DefaultsAreMegatrons) {
  // ffn_hidden_size = 4h and kv_channels = h / heads when the catalog leaves them out: the same
  // count as writing them.
  const std::string base =
      "[m]\nnum_layers = 2\nnum_attention_heads = 4\nhidden_size = 256\nvocab_size = 1000\n"
      "seq_length = 64\n";
  EXPECT_DOUBLE_EQ(*model_flops_per_token(parse_one(base), FlopsSettings{}),
                   *model_flops_per_token(parse_one(base + "ffn_hidden_size = 1024\n"
                                                           "kv_channels = 64\n"),
                                          FlopsSettings{}));
}

}  // namespace
}  // namespace bp
