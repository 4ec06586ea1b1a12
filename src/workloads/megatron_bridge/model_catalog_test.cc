#include "workloads/megatron_bridge/model_catalog.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/toml_reader.h"
#include "testkit/testkit.h"

namespace bp {
namespace {

TEST(ModelCatalog, BuiltinHasShapes) {
  ModelCatalog c = ModelCatalog::load("");
  const ModelShape* m = c.find("llama3_8b");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->num_layers, 32);
  EXPECT_EQ(m->num_attention_heads, 32);
  EXPECT_EQ(m->num_query_groups, 8);
  EXPECT_FALSE(m->is_moe());
  const ModelShape* ds = c.find("DeepSeekV3");  // alias, case-insensitive
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(ds->name, "deepseek_v3");
  EXPECT_EQ(ds->auto_layout_pairs.size(), 7u);
  // v0.6 pins: its GB300 and H100 recipes' own pairs too; a model without a v0.6 list keeps one.
  EXPECT_EQ(ds->layout_pairs(true).size(), 9u);
  EXPECT_EQ(ds->layout_pairs(true)[7], std::make_pair(int64_t{2}, int64_t{8}));
  EXPECT_EQ(ds->layout_pairs(false).size(), 7u);
  EXPECT_EQ(&c.find("kimi_k2")->layout_pairs(true), &c.find("kimi_k2")->auto_layout_pairs);
  EXPECT_TRUE(ds->multi_latent_attention);
  EXPECT_TRUE(ds->has_dense_mlp());
  EXPECT_FALSE(c.find("qwen3_30b_a3b")->has_dense_mlp());
  EXPECT_TRUE(c.find("nemotronh_56b")->has_dense_mlp());
  EXPECT_EQ(c.find("nope"), nullptr);
}

TEST(ModelCatalog, PretrainDefaultsPerGpuAndDtype) {
  ModelCatalog c = ModelCatalog::load("");
  const RecipeParallelism* p = c.find("llama3_70b")->pretrain_defaults_for("H100", "bf16");
  ASSERT_NE(p, nullptr);  // Megatron-Bridge's llama3_70b H100 bf16 recipe: tp4 pp4 cp2 vp5
  EXPECT_EQ(p->tp, 4);
  EXPECT_EQ(p->pp, 4);
  EXPECT_EQ(p->cp, 2);
  EXPECT_EQ(p->vp, 5);
  EXPECT_EQ(p->ep, 1);
  EXPECT_EQ(c.find("llama3_70b")->pretrain_defaults_for("h100", "fp8_cs")->pp, 8);
  EXPECT_EQ(c.find("deepseek_v3")->pretrain_defaults_for("gb200", "bf16")->ep, 64);
  // v0.3.0 and v0.6.0 disagree (or v0.6.0 builds it in a helper): no entry, no guess.
  EXPECT_EQ(c.find("llama31_405b")->pretrain_defaults_for("b200", "bf16"), nullptr);
  EXPECT_EQ(c.find("llama3_8b")->pretrain_defaults_for("gb200", "bf16"), nullptr);

  ModelCatalog user = ModelCatalog::parse(
      read_toml_string("[m]\nnum_layers = 4\nnum_attention_heads = 4\n"
                       "[m.pretrain_defaults]\nh100_bf16 = { pp = 2, vp = 2 }\n",
                       "u.toml"));
  EXPECT_EQ(user.find("m")->pretrain_defaults_for("h100", "bf16")->vp, 2);
  EXPECT_EQ(user.find("m")->pretrain_defaults_for("h100", "bf16")->tp, 1);
  EXPECT_EQ(user.find("m")->pretrain_defaults_for("h100", "bf16")->offload, 0);
  EXPECT_FALSE(user.find("m")->pretrain_defaults_for("h100", "bf16")->fsdp);
  // The memory estimate's recipe settings: Llama3 70B on GB200 in FP8 runs Megatron FSDP with
  // 40 layers offloaded (v0.3.0 and v0.6.0 agree); DeepSeek-V3 on GB300 recomputes mla_up_proj.
  const RecipeParallelism* gb200 = c.find("llama3_70b")->pretrain_defaults_for("gb200", "fp8_cs");
  ASSERT_NE(gb200, nullptr);
  EXPECT_TRUE(gb200->fsdp);
  EXPECT_EQ(gb200->offload, 40);
  EXPECT_EQ(c.find("deepseek_v3")->pretrain_defaults_for("gb300", "fp8_cs")->recompute,
            std::vector<std::string>{"mla_up_proj"});
  // GPT-OSS 120B (v0.3.0 and v0.6.0 agree on H100 BF16) and Kimi K2 (v0.6.0), whose pp and vp
  // the recipe's own layout fixes: unstated, 0.
  const RecipeParallelism* oss = c.find("gpt_oss_120b")->pretrain_defaults_for("h100", "bf16");
  ASSERT_NE(oss, nullptr);
  EXPECT_EQ(oss->pp, 4);
  EXPECT_EQ(oss->ep, 8);
  EXPECT_EQ(oss->recompute, (std::vector<std::string>{"layernorm", "moe_act"}));
  EXPECT_EQ(c.find("gpt_oss_120b")->pretrain_defaults_for("b200", "bf16"), nullptr);
  const RecipeParallelism* kimi = c.find("kimi_k2")->pretrain_defaults_for("gb200", "fp8_mx");
  ASSERT_NE(kimi, nullptr);
  EXPECT_EQ(kimi->ep, 64);
  EXPECT_EQ(kimi->tp, 1);
  EXPECT_EQ(kimi->pp, 0);
  EXPECT_EQ(kimi->vp, 0);
  EXPECT_EQ(kimi->recompute, std::vector<std::string>{"mla_up_proj"});
  // Nemotron 3 Super on GB200 (v0.6.0): tp 2, ep 64; Nano recomputes only on H100.
  const RecipeParallelism* super =
      c.find("nemotron_3_super")->pretrain_defaults_for("gb200", "nvfp4");
  ASSERT_NE(super, nullptr);
  EXPECT_EQ(super->tp, 2);
  EXPECT_EQ(super->ep, 64);
  EXPECT_EQ(c.find("nemotron_3_nano")->pretrain_defaults_for("h100", "bf16")->recompute,
            (std::vector<std::string>{"moe", "layernorm"}));
  EXPECT_TRUE(c.find("nemotron_3_nano")->pretrain_defaults_for("b200", "bf16")->recompute.empty());
  EXPECT_EQ(c.find("nemotron_3_5_lightning")->pretrain_defaults_for("gb200", "fp8_mx")->ep, 8);
  for (const char* bad :
       {"h100_bf16 = { pp = 0 }", "h100_bf16 = { dp = 2 }", "h100_bf16 = 3",
        "h100_bf16 = { offload = -1 }", "h100_bf16 = { fsdp = 1 }",
        "h100_bf16 = { recompute = \"mlp\" }", "h100_bf16 = { recompute = [1] }",
        "h100_bf16 = { unstated = \"pp\" }", "h100_bf16 = { unstated = [\"dp\"] }"}) {
    try {
      ModelCatalog::parse(read_toml_string(std::string("[m]\nnum_layers = 4\n"
                                                       "num_attention_heads = 4\n"
                                                       "[m.pretrain_defaults]\n") +
                                               bad + "\n",
                                           "u.toml"));
      ADD_FAILURE() << "accepted " << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("u.toml:5: m.pretrain_defaults.h100_bf16"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(ModelCatalog, UserFilesAddAndOverride) {
  testkit::TempDir dir;
  std::string a =
      testkit::write_file(dir / "a.toml",
                          "[llama3_8b]\nnum_layers = 30\nnum_attention_heads = 30\n"
                          "[mine]\nkind = 'moe'\nnum_layers = 4\nnum_attention_heads = 8\n"
                          "num_moe_experts = 4\n");
  std::string b =
      testkit::write_file(dir / "b.toml", "[mine]\nnum_layers = 6\nnum_attention_heads = 8\n");
  ModelCatalog c = ModelCatalog::load(a + "::" + b);
  EXPECT_EQ(c.find("llama3_8b")->num_layers, 30);  // replaced as a whole
  EXPECT_EQ(c.find("llama3_8b")->num_query_groups, 0);
  EXPECT_EQ(c.find("mine")->num_layers, 6);  // later file wins
  EXPECT_FALSE(c.find("mine")->is_moe());
  EXPECT_NE(c.find("qwen3_30b_a3b"), nullptr);  // built-ins stay
}

TEST(ModelCatalog, BadEntriesNameFileLineAndKey) {
  auto error_of = [](const std::string& text) {
    try {
      ModelCatalog::parse(read_toml_string(text, "cat.toml"));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("[m]\nnum_layers = 4\nnum_attention_heads = 8\nheads = 3\n")
                .rfind("cat.toml:4: m.heads: unknown key; expected one of:", 0),
            0u);
  EXPECT_EQ(error_of("[m]\nnum_layers = 'x'\nnum_attention_heads = 8\n"),
            "cat.toml:2: m.num_layers: expected a non-negative integer, got \"x\"");
  EXPECT_NE(error_of("[m]\nnum_attention_heads = 8\n").find("m.num_layers: is required"),
            std::string::npos);
  EXPECT_NE(error_of("[m]\nkind = 'moe'\nnum_layers = 2\nnum_attention_heads = 8\n")
                .find("m.num_moe_experts"),
            std::string::npos);
  EXPECT_NE(error_of("[m]\nkind = 'hybrid'\nnum_layers = 3\nnum_attention_heads = 8\n"
                     "hybrid_layer_pattern = 'M*'\n")
                .find("has 2 layers but num_layers = 3"),
            std::string::npos);
  EXPECT_NE(error_of("[m]\nnum_layers = 2\nnum_attention_heads = 8\nauto_layout_pairs = [[1]]\n")
                .find("expected [pp, vp]"),
            std::string::npos);
  EXPECT_NE(error_of("[m]\nnum_layers = 2\nnum_attention_heads = 8\n"
                     "auto_layout_pairs_v0_6 = [[2, 0]]\n")
                .find("m.auto_layout_pairs_v0_6: expected [pp, vp]"),
            std::string::npos);
}

TEST(ModelCatalog, FormulaFieldsOfEveryBuiltinEntry) {
  ModelCatalog c = ModelCatalog::load("");
  for (const ModelShape& m : c.models()) {
    SCOPED_TRACE(m.name);
    EXPECT_FALSE(m.shape_source.empty());  // every entry says where its numbers come from
    if (m.is_moe()) {
      EXPECT_EQ(static_cast<int64_t>(m.moe_layer_pattern.size()), m.num_layers);
    }
  }
  const ModelShape& ds = *c.find("deepseek_v3");
  EXPECT_EQ(ds.moe_layer_pattern[2], 0);  // first_k_dense_replace = 3
  EXPECT_EQ(ds.moe_layer_pattern[3], 1);
  EXPECT_EQ(ds.q_lora_rank, 1536);
  EXPECT_EQ(ds.make_vocab_size_divisible_by, 1280);
  EXPECT_TRUE(ds.untie_embeddings_and_output_weights);
  const ModelShape& oss = *c.find("gpt_oss_120b");
  EXPECT_EQ(oss.window_size, 128);
  EXPECT_EQ(oss.window_attn_skip_freq, 2);
  EXPECT_EQ(oss.activation, "quick_gelu");
  EXPECT_EQ(c.find("nemotron_3_5_lightning")->mtp_hybrid_layer_pattern, "*E");
  EXPECT_EQ(c.find("llama3_8b")->make_vocab_size_divisible_by, 128);
}

TEST(ModelCatalog, MoeLayerFreqLikeMegatron) {
  auto pattern_of = [](const std::string& extra) {
    return ModelCatalog::parse(
               read_toml_string("[m]\nkind = 'moe'\nnum_layers = 4\nnum_attention_heads = 8\n"
                                "num_moe_experts = 4\n" +
                                    extra,
                                "cat.toml"))
        .models()
        .at(0)
        .moe_layer_pattern;
  };
  EXPECT_EQ(pattern_of(""), (std::vector<int>{1, 1, 1, 1}));
  EXPECT_EQ(pattern_of("moe_layer_freq = 2\n"), (std::vector<int>{1, 0, 1, 0}));
  EXPECT_EQ(pattern_of("moe_layer_freq = [0, 1, 1, 0]\n"), (std::vector<int>{0, 1, 1, 0}));
  EXPECT_EQ(pattern_of("first_k_dense_replace = 1\n"), (std::vector<int>{0, 1, 1, 1}));
  for (const char* bad : {"moe_layer_freq = [1, 1]", "moe_layer_freq = [0, 1, 2, 1]",
                          "moe_layer_freq = 0", "moe_layer_freq = 'x'"}) {
    try {
      pattern_of(std::string(bad) + "\n");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("cat.toml:6: m.moe_layer_freq"), std::string::npos)
          << e.what();
    }
  }
}

TEST(ModelCatalog, BadFormulaFields) {
  auto error_of = [](const std::string& extra) {
    try {
      ModelCatalog::parse(
          read_toml_string("[m]\nnum_layers = 2\nnum_attention_heads = 8\n" + extra, "cat.toml"));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("make_vocab_size_divisible_by = 0\n"),
            "cat.toml:4: m.make_vocab_size_divisible_by: must be at least 1");
  EXPECT_NE(
      error_of("mtp_hybrid_layer_pattern = '*X'\n").find("cat.toml:4: m.mtp_hybrid_layer_pattern"),
      std::string::npos);
  EXPECT_EQ(error_of("kv_channels = -1\n"),
            "cat.toml:4: m.kv_channels: expected a non-negative integer, got -1");
  EXPECT_EQ(error_of("gated_linear_unit = 1\n"),
            "cat.toml:4: m.gated_linear_unit: expected true or false, got 1");
}

TEST(ModelCatalog, MissingUserFileIsAnError) {
  EXPECT_THROW(ModelCatalog::load("/nonexistent/catalog.toml"), ConfigError);
}

}  // namespace
}  // namespace bp
