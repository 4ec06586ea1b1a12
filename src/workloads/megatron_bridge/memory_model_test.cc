#include "workloads/megatron_bridge/memory_model.h"

#include <gtest/gtest.h>

namespace bp::mbridge {
namespace {

// Shapes written by hand (Megatron-Bridge's providers / Hugging Face configs), independent of
// the catalog; the same as tools/estimator/memory_reference.py's.
ModelShape llama3_70b() {
  ModelShape m;
  m.name = "llama3_70b";
  m.num_layers = 80;
  m.hidden_size = 8192;
  m.num_attention_heads = 64;
  m.num_query_groups = 8;
  m.ffn_hidden_size = 28672;
  m.kv_channels = 128;
  m.vocab_size = 128256;
  m.gated_linear_unit = true;
  m.seq_length = 8192;
  return m;
}

ModelShape llama31_405b() {
  ModelShape m = llama3_70b();
  m.name = "llama31_405b";
  m.num_layers = 126;
  m.hidden_size = 16384;
  m.num_attention_heads = 128;
  m.ffn_hidden_size = 53248;
  return m;
}

ModelShape llama3_8b() {
  ModelShape m = llama3_70b();
  m.name = "llama3_8b";
  m.num_layers = 32;
  m.hidden_size = 4096;
  m.num_attention_heads = 32;
  m.ffn_hidden_size = 14336;
  return m;
}

ModelShape deepseek_v3() {
  ModelShape m;
  m.name = "deepseek_v3";
  m.kind = "moe";
  m.num_layers = 61;
  m.hidden_size = 7168;
  m.num_attention_heads = 128;
  m.num_query_groups = 0;  // MLA
  m.multi_latent_attention = true;
  m.ffn_hidden_size = 18432;
  m.kv_channels = 0;  // Megatron's default, h / heads = 56
  m.vocab_size = 129280;
  m.gated_linear_unit = true;
  m.seq_length = 4096;
  m.num_moe_experts = 256;
  m.moe_router_topk = 8;
  m.moe_ffn_hidden_size = 2048;
  m.moe_shared_expert_intermediate_size = 2048;
  m.moe_shared_experts = true;
  m.moe_layer_pattern.assign(61, 1);
  for (int i = 0; i < 3; ++i) m.moe_layer_pattern[i] = 0;
  m.mtp_num_layers = 1;
  m.q_lora_rank = 1536;
  m.kv_lora_rank = 512;
  return m;
}

ModelShape qwen3_30b_a3b() {
  ModelShape m;
  m.name = "qwen3_30b_a3b";
  m.kind = "moe";
  m.num_layers = 48;
  m.hidden_size = 2048;
  m.num_attention_heads = 32;
  m.num_query_groups = 4;
  m.ffn_hidden_size = 6144;
  m.kv_channels = 128;
  m.vocab_size = 151936;
  m.gated_linear_unit = true;
  m.seq_length = 4096;
  m.num_moe_experts = 128;
  m.moe_router_topk = 8;
  m.moe_ffn_hidden_size = 768;
  return m;
}

// Hybrid shapes: Nemotron-H from NemotronHModelProvider8B/56B (models/nemotronh/
// nemotron_h_provider.py @ v0.4.2: 8 Mamba groups of head_dim 64, 8 KV groups, squared-ReLU
// MLPs, vocab 131072), Nemotron 3 from their Hugging Face configs as the catalog quotes them.
ModelShape nemotronh(int64_t hidden, int64_t heads, int64_t ffn, int64_t mamba_heads, int64_t state,
                     const std::string& pattern) {
  ModelShape m;
  m.kind = "hybrid";
  m.hybrid_layer_pattern = pattern;
  m.num_layers = static_cast<int64_t>(pattern.size());
  m.hidden_size = hidden;
  m.num_attention_heads = heads;
  m.num_query_groups = 8;
  m.kv_channels = 128;
  m.ffn_hidden_size = ffn;
  m.mamba_num_heads = mamba_heads;
  m.mamba_head_dim = 64;
  m.mamba_num_groups = 8;
  m.mamba_state_dim = state;
  m.vocab_size = 131072;
  m.seq_length = 8192;
  return m;
}

ModelShape nemotronh_8b() {
  return nemotronh(4096, 32, 21504, 128, 128,
                   "M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M-");
}

ModelShape nemotronh_56b() {
  return nemotronh(8192, 64, 32768, 256, 256,
                   "M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-"
                   "M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M-");
}

ModelShape nemotron_3_nano() {
  ModelShape m =
      nemotronh(2688, 32, 1856, 64, 128, "MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEMEM*EMEMEMEME");
  m.num_query_groups = 2;
  m.num_moe_experts = 128;
  m.moe_router_topk = 6;
  m.moe_shared_experts = true;
  m.moe_ffn_hidden_size = 1856;
  m.moe_shared_expert_intermediate_size = 3712;
  return m;
}

// Nano plus two multi-token-prediction depths of one repeated "*E" block.
ModelShape nemotron_3_5_lightning() {
  ModelShape m = nemotron_3_nano();
  m.mtp_num_layers = 2;
  m.mtp_hybrid_layer_pattern = "*E";
  return m;
}

ModelShape nemotron_3_super() {
  ModelShape m = nemotronh(4096, 32, 0, 128, 128,
                           "MEMEMEM*EMEMEMEM*EMEMEMEM*EMEMEMEMEM*EMEMEMEMEM*EMEMEMEMEM*EMEMEMEMEM*"
                           "EMEMEMEM*EMEMEMEME");
  m.num_query_groups = 2;
  m.num_moe_experts = 512;
  m.moe_router_topk = 22;
  m.moe_shared_experts = true;
  m.moe_ffn_hidden_size = 2688;
  m.moe_shared_expert_intermediate_size = 5376;
  m.moe_latent_size = 1024;
  m.mtp_num_layers = 2;
  m.mtp_hybrid_layer_pattern = "*E";
  return m;
}

MemoryInputs inputs(int64_t gpus, int64_t tp, int64_t pp, int64_t cp, int64_t vp, int64_t ep,
                    int64_t etp, int64_t mb, int64_t gb, bool distributed_optimizer = true) {
  MemoryInputs in;
  in.num_gpus = gpus;
  in.tp = tp;
  in.pp = pp;
  in.cp = cp;
  in.vp = vp;
  in.ep = ep;
  in.etp = etp;
  in.mb = mb;
  in.gb = gb;
  in.distributed_optimizer = distributed_optimizer;
  return in;
}

struct Pinned {
  const char* name;
  ModelShape shape;
  MemoryInputs in;
  double weight_and_optimizer;  // bytes, from memory_reference.py on Megatron-Bridge v0.6.0
  double activation;
};

std::vector<Pinned> pinned() {
  return {
      {"llama3_70b_tp4_pp4_vp5", llama3_70b(), inputs(32, 4, 4, 1, 5, 1, 0, 1, 64), 54498570240.0,
       49469374463.99999},
      {"llama3_70b_tp4_pp4_m2", llama3_70b(), inputs(32, 4, 4, 1, 1, 1, 0, 1, 4), 54498570240.0,
       21508423680.0},
      {"llama31_405b_tp1_pp1", llama31_405b(), inputs(8, 1, 1, 1, 1, 1, 0, 1, 64), 3043931504640.0,
       529128292352.0},
      {"llama31_405b_tp8_pp8_cp2_vp8", llama31_405b(), inputs(512, 8, 8, 2, 8, 1, 0, 1, 256),
       49050735360.0, 36424158720.0},
      {"llama3_8b_tp1_pp2_no_distopt", llama3_8b(), inputs(8, 1, 2, 1, 1, 1, 0, 2, 128, false),
       72274747392.0, 68853956608.0},
      {"deepseek_v3_tp2_pp8_vp4_ep32", deepseek_v3(), inputs(256, 2, 8, 1, 4, 32, 1, 1, 2048),
       56872470816.0, 31519567872.0},
      {"qwen3_30b_a3b_ep8", qwen3_30b_a3b(), inputs(8, 1, 1, 1, 1, 8, 1, 1, 512), 76695042048.0,
       14610890752.0},
  };
}

TEST(MegatronMemory, EqualsMegatronBridgeTheoreticalMemory) {
  for (const Pinned& p : pinned()) {
    SCOPED_TRACE(p.name);
    std::optional<MegatronMemory> m = megatron_theoretical_memory(p.shape, p.in);
    ASSERT_TRUE(m);
    EXPECT_NEAR(m->weight_and_optimizer / p.weight_and_optimizer, 1.0, 1e-12);
    EXPECT_NEAR(m->activation / p.activation, 1.0, 1e-12);
  }
}

// The parameter split is Megatron's; the bytes differ only where the performance recipes differ
// from Megatron's assumptions: bf16 gradients (2 bytes, Megatron's formula counts fp32's 4).
TEST(MegatronMemory, WeightsGradientsAndOptimizerAreMegatronsSplitWithBf16Gradients) {
  for (const Pinned& p : pinned()) {
    SCOPED_TRACE(p.name);
    std::optional<MemoryBreakdown> b = estimate_memory(p.shape, p.in);
    ASSERT_TRUE(b);
    EXPECT_DOUBLE_EQ(b->gradients, b->weights);  // bf16 weights and bf16 gradients
    const double params = b->weights / 2;
    EXPECT_NEAR((b->weights + b->gradients + b->optimizer + 2 * params) / p.weight_and_optimizer,
                1.0, 1e-12);
    EXPECT_NEAR(b->total(), b->weights + b->gradients + b->optimizer + b->activations + b->other,
                1.0);
  }
  ModelShape fp32 = llama3_8b();
  fp32.grad_reduce_in_fp32 = true;
  std::optional<MemoryBreakdown> b = estimate_memory(fp32, inputs(8, 1, 1, 1, 1, 1, 0, 1, 8));
  EXPECT_DOUBLE_EQ(b->gradients, 2 * b->weights);
}

// Per token and unit of hidden size, Llama3 70B (h 8192, 64 heads of 128, 8 groups, SwiGLU ffn
// 3.5 h) keeps in bf16: attention 2 (norm input) + 2 (QKV input) + 2 x 1.25 (Q, K, V) + 2
// (attention output) = 8.5; MLP 2 + 2 + 4 x 3.5 (first GEMM output, 2 ffn wide) + 2 x 3.5
// (second GEMM input) = 25. FP8 keeps the GEMM inputs in 1 byte and the output projection's own
// copy: 8.5 and 20.5. Megatron's formula says 18 + 4 x 3.5 = 32 for both.
TEST(MegatronMemory, ActivationsCountWhatEachLayerKeeps) {
  const ModelShape m = llama3_70b();
  MemoryInputs in = inputs(32, 4, 4, 1, 1, 1, 0, 1, 4);  // 2 micro-batches of 4 stages: x 0.5
  const double sb = 8192.0, sbh = sb * 8192;
  auto expected = [&](double per_layer) {
    return (sbh * 80 * per_layer + 8 * sb * 4 + sbh * 4) * 0.5 / 4;
  };
  EXPECT_NEAR(estimate_memory(m, in)->activations / expected(33.5), 1.0, 1e-12);
  in.low_precision_gemm_inputs = true;
  EXPECT_NEAR(estimate_memory(m, in)->activations / expected(29.0), 1.0, 1e-12);
  // Megatron's own figure is unchanged by the dtype.
  EXPECT_NEAR(megatron_theoretical_memory(m, in)->activation / 21508423680.0, 1.0, 1e-12);
}

// DeepSeek-V3's MLA projections (q 7168 x 1536 + 1536 x 128 x 192, kv 7168 x 576 + 512 x 128 x
// 256, out 128 x 128 x 7168, two latent norms) are 187.2 M per layer; Megatron's formula, with
// kv_channels 128 for every head, counts 469.8 M.
TEST(MegatronMemory, MlaAttentionIsCountedFromItsRanks) {
  ModelShape m = deepseek_v3();
  m.kv_channels = 128;
  m.qk_head_dim = 128;
  m.qk_pos_emb_head_dim = 64;
  m.v_head_dim = 128;
  const MemoryInputs in = inputs(256, 1, 1, 1, 1, 64, 1, 1, 256);
  const double megatron_params = megatron_theoretical_memory(m, in)->weight_and_optimizer;
  std::optional<MemoryBreakdown> b = estimate_memory(m, in);
  ASSERT_TRUE(b);
  const double mla = 7168.0 * 1536 + 1536 + 1536.0 * 128 * 192 + 7168.0 * 576 + 512 +
                     512.0 * 128 * 256 + 128.0 * 128 * 7168;
  const double megatron_attention = 2 * 7168.0 * 7168 * 2 * (128.0 * 128 / 7168);
  EXPECT_NEAR(mla, 187.2e6, 0.1e6);
  // 62 layers (MTP included) on the one stage carry delta fewer parameters each. Megatron
  // counts 6 + 12/dp bytes per dense parameter (dp = 256) and 6 + 12/dp_expert per routed one;
  // the estimate 4 + the same optimizer share: the difference is 2 bytes for each of Megatron's
  // parameters (weights / 2 + 62 delta) plus 4 + 12/dp for each attention parameter not there.
  const double delta = megatron_attention - mla;
  const double megatron_count = b->weights / 2 + 62 * delta;
  EXPECT_NEAR((megatron_params - (b->weights + b->gradients + b->optimizer)) /
                  (2 * megatron_count + 62 * delta * (4 + 12.0 / 256)),
              1.0, 1e-9);
}

TEST(MegatronMemory, DistributedOptimizerShardsOnlyTheOptimizer) {
  ModelShape m = llama3_8b();
  std::optional<MemoryBreakdown> sharded = estimate_memory(m, inputs(8, 1, 1, 1, 1, 1, 0, 1, 8));
  std::optional<MemoryBreakdown> whole =
      estimate_memory(m, inputs(8, 1, 1, 1, 1, 1, 0, 1, 8, false));
  ASSERT_TRUE(sharded && whole);
  EXPECT_DOUBLE_EQ(sharded->weights, whole->weights);
  EXPECT_DOUBLE_EQ(sharded->optimizer * 8, whole->optimizer);  // 12/dp bytes vs 12
}

TEST(MegatronMemory, MegatronFsdpShardsWeightsAndGradients) {
  MemoryInputs in = inputs(8, 1, 1, 1, 1, 1, 0, 1, 8);
  std::optional<MemoryBreakdown> ddp = estimate_memory(llama3_8b(), in);
  in.megatron_fsdp = true;
  std::optional<MemoryBreakdown> fsdp = estimate_memory(llama3_8b(), in);
  ASSERT_TRUE(ddp && fsdp);
  EXPECT_NEAR(fsdp->weights * 8 / ddp->weights, 1.0, 1e-12);
  EXPECT_NEAR(fsdp->gradients * 8 / ddp->gradients, 1.0, 1e-12);
  EXPECT_NEAR(fsdp->optimizer / ddp->optimizer, 1.0, 1e-12);
}

TEST(MegatronMemory, RecomputeAndOffloadLowerActivations) {
  const ModelShape m = llama3_70b();
  MemoryInputs in = inputs(32, 4, 4, 1, 1, 1, 0, 1, 64);
  const double none = estimate_memory(m, in)->activations;
  in.recompute_modules = kRecomputeCoreAttn;  // what the formula already assumes
  EXPECT_DOUBLE_EQ(estimate_memory(m, in)->activations, none);
  in.recompute_modules = kRecomputeMlp;
  const double mlp = estimate_memory(m, in)->activations;
  // Of each layer's 33.5 (ActivationsCountWhatEachLayerKeeps) the dense MLP keeps 25; with its
  // recompute only its input (2) stays: 23 go.
  const double sbh = 8192.0 * 8192 * 1;
  const double layer_part = sbh * 80 * 23 / 4;  // / tp, x min(1, 16/4) = 1
  EXPECT_NEAR(none - mlp, layer_part, 1.0);
  in.recompute_modules = 0;
  in.recompute_num_layers = 20;  // every layer of each stage: only inputs (2 bytes) stay
  const double full = estimate_memory(m, in)->activations;
  EXPECT_NEAR(none - full, sbh * 80 * (33.5 - 2) / 4, 1.0);
  in.recompute_num_layers = 10;  // half of each stage
  EXPECT_NEAR(none - estimate_memory(m, in)->activations, sbh * 80 * 31.5 / 2 / 4, 1.0);
  in.recompute_num_layers = 0;
  in.offload_layers = 5;  // a quarter of each stage's 20 layers
  EXPECT_NEAR(none - estimate_memory(m, in)->activations, sbh * 80 * 33.5 / 4 / 4, 1.0);
}

TEST(MegatronMemory, MoeRecomputeModulesLowerExpertActivations) {
  const ModelShape m = qwen3_30b_a3b();
  MemoryInputs in = inputs(8, 1, 1, 1, 1, 8, 1, 1, 512);
  const double none = estimate_memory(m, in)->activations;
  in.recompute_modules = kRecomputeMoeAct;
  const double act = estimate_memory(m, in)->activations;
  in.recompute_modules = kRecomputeMoe;
  const double moe = estimate_memory(m, in)->activations;
  // Per layer: 8 routed copies of each token (2 bytes), the experts' first GEMM outputs (4 x
  // 768 x 8 / 2048 = 12) and second GEMM inputs (2 x 768 x 8 / 2048 = 6). moe_act drops the
  // last; moe keeps only the layer's input (2).
  const double sbh = 4096.0 * 2048;
  EXPECT_NEAR(none - act, sbh * 48 * 6, 1.0);
  EXPECT_NEAR(none - moe, sbh * 48 * (16 + 12 + 6), 1.0);
}

TEST(MegatronMemory, FixedCostsAreStated) {
  constexpr double kGiB = 1024.0 * 1024 * 1024;
  MemoryInputs in = inputs(32, 4, 4, 1, 5, 1, 0, 1, 64);  // tp, pp and dp (2) communicate
  std::optional<MemoryBreakdown> b = estimate_memory(llama3_70b(), in);
  ASSERT_TRUE(b);
  EXPECT_DOUBLE_EQ(b->cuda_context, 0.6 * kGiB);
  EXPECT_DOUBLE_EQ(b->nccl_buffers, 3 * 0.25 * kGiB);
  EXPECT_DOUBLE_EQ(b->fragmentation, 0.05 * b->activations);
  EXPECT_DOUBLE_EQ(b->cuda_graphs, 0);
  EXPECT_DOUBLE_EQ(b->other, b->cuda_context + b->nccl_buffers + b->fragmentation);
  in.cuda_graphs = true;
  std::optional<MemoryBreakdown> g = estimate_memory(llama3_70b(), in);
  EXPECT_DOUBLE_EQ(g->cuda_graphs, 0.2 * g->activations + 1.0 * kGiB);
  MemoryEstimate gib = to_gib(*g);
  EXPECT_NEAR(gib.total() * kGiB, g->total(), 1.0);
  ASSERT_EQ(gib.details.size(), 4u);
  EXPECT_EQ(gib.details[3].first, "cuda_graphs");
}

TEST(MegatronMemory, NoEstimateWithoutTheShape) {
  ModelShape m = llama3_8b();
  m.seq_length = 0;
  EXPECT_FALSE(estimate_memory(m, inputs(8, 1, 1, 1, 1, 1, 0, 1, 8)));
  MemoryInputs in = inputs(8, 1, 1, 1, 1, 1, 0, 1, 8);
  in.seq_length = 4096;  // written by the user
  EXPECT_TRUE(estimate_memory(m, in));
  EXPECT_FALSE(estimate_memory(ModelShape{}, in));
}

// Issue 17's anchors: 405B on one node is far out; Megatron-Bridge's published Llama3-70B FP8
// configuration on 64 H100 fits; its SFT case that ran out from fragmentation is near the limit.
TEST(MegatronMemory, AnchorsOnH100) {
  const double h100 = gpu_memory_of("h100")->gib;
  auto gib = [](const ModelShape& m, const MemoryInputs& in) {
    return to_gib(*estimate_memory(m, in)).total();
  };
  EXPECT_GT(gib(llama31_405b(), inputs(8, 1, 1, 1, 1, 1, 0, 1, 64)), 10 * h100);
  const double published = gib(llama3_70b(), inputs(64, 4, 8, 1, 5, 1, 0, 1, 256));
  EXPECT_LT(published, kOomPruneAbove * h100);
  MemoryInputs sft = inputs(32, 4, 4, 1, 5, 1, 0, 1, 32);
  sft.seq_length = 4096;
  sft.low_precision_gemm_inputs = true;  // FP8 current scaling
  sft.cuda_graphs = true;                // LLAMA3_70B_SFT_CONFIG_H100_FP8_CS_V1: TE graphs of mlp
  const double sft_gib = gib(llama3_70b(), sft);
  EXPECT_GE(sft_gib, kNearLimitFrom * h100);
  EXPECT_LT(sft_gib, kOomPruneAbove * h100);
}

// All parameters: one GPU, bf16 weights (2 bytes each), untied embeddings counted twice.
double parameters(const ModelShape& m) {
  std::optional<MemoryBreakdown> b = estimate_memory(m, inputs(1, 1, 1, 1, 1, 1, 0, 1, 1));
  return b ? b->weights / 2 : 0.0;
}

TEST(HybridMemory, ParameterCountsAreThePublishedTotals) {
  // Exact: Megatron-Bridge v0.6.0's verification card of the Lightning checkpoint
  // (examples/model_verification_cards/nemotron-3.5-lightning/card.yaml: "all 6,513 tensors and
  // 32,913,266,240 parameters match"): Nano's shape plus one MTP block.
  EXPECT_DOUBLE_EQ(parameters(nemotron_3_5_lightning()), 32913266240.0);
  // HF nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16's model card: 31.6 B parameters in total.
  EXPECT_NEAR(parameters(nemotron_3_nano()) / 31.6e9, 1.0, 0.001);
  // The nominal sizes (docs/models/nemotron/nemotronh.md and nemotron3-super.md @ v0.6.0: 8B,
  // 56B; 120B in total for Super, its MTP block aside).
  EXPECT_NEAR(parameters(nemotronh_8b()) / 8e9, 1.0, 0.02);
  EXPECT_NEAR(parameters(nemotronh_56b()) / 56e9, 1.0, 0.01);
  ModelShape super_main = nemotron_3_super();
  super_main.mtp_num_layers = 0;
  EXPECT_NEAR(parameters(super_main) / 120e9, 1.0, 0.01);
  EXPECT_GT(parameters(nemotron_3_super()), parameters(super_main));
}

// One Mamba layer of Nano (h 2688, 64 heads of 64, 8 groups of state 128): norm 2688, in_proj
// 2688 x (2 x 4096 + 2 x 1024 + 64), conv1d (4096 + 2048) x (4 + 1), dt_bias/A_log/D 3 x 64,
// gated norm 4096, out_proj 4096 x 2688. It keeps per token, in bf16: norm input and output
// (2 + 2), in_proj's output (2 x 10304), the scan's output and out_proj's input (2 x 2 x 4096).
TEST(HybridMemory, OneMambaLayer) {
  ModelShape one = nemotron_3_nano();
  ModelShape two = one;
  one.hybrid_layer_pattern = "ME";
  two.hybrid_layer_pattern = "MME";
  one.num_layers = 2;
  two.num_layers = 3;
  const double h = 2688;
  const double params =
      h + h * (2 * 4096 + 2 * 1024 + 64) + (4096 + 2048) * 5.0 + 3 * 64 + 4096 + 4096 * h;
  EXPECT_DOUBLE_EQ(parameters(two) - parameters(one), params);
  const MemoryInputs in = inputs(1, 1, 1, 1, 1, 1, 0, 1, 1);
  const double saved = 4 * 8192 * h + 2 * 10304 * 8192.0 + 2 * 2 * 4096 * 8192.0;
  EXPECT_NEAR(estimate_memory(two, in)->activations - estimate_memory(one, in)->activations, saved,
              1.0);
  // Megatron-Bridge's own formula does not count hybrid models.
  EXPECT_FALSE(megatron_theoretical_memory(two, in));
  // A pattern that is not num_layers long, or Mamba layers without their fields: no estimate.
  MemoryInputs wrong = in;
  wrong.num_layers = 4;
  EXPECT_FALSE(estimate_memory(two, wrong));
  two.mamba_state_dim = 0;
  EXPECT_FALSE(estimate_memory(two, in));
}

// Tensor and expert parallelism split a hybrid model as a transformer's: the routed experts over
// ep x et, the rest over tp x pp; the two MTP depths' activations count twice, their parameters
// once.
TEST(HybridMemory, ParallelismSplitsHybridModels) {
  const ModelShape m = nemotron_3_5_lightning();
  std::optional<MemoryBreakdown> whole = estimate_memory(m, inputs(8, 1, 1, 1, 1, 1, 1, 1, 8));
  std::optional<MemoryBreakdown> ep8 = estimate_memory(m, inputs(8, 1, 1, 1, 1, 8, 1, 1, 8));
  std::optional<MemoryBreakdown> tp2 = estimate_memory(m, inputs(8, 2, 1, 1, 1, 8, 1, 1, 8));
  ASSERT_TRUE(whole && ep8 && tp2);
  // Routed: 24 MoE layers (23 + the MTP block) x 128 experts x 2 x 2688 x 1856.
  const double routed = 24 * 128 * 2 * 2688.0 * 1856;
  EXPECT_NEAR((whole->weights - ep8->weights) / 2, routed * 7 / 8, 1.0);
  EXPECT_NEAR((ep8->weights - tp2->weights) / 2, (parameters(m) - routed) / 2, 1.0);
  EXPECT_NEAR(tp2->activations * 2 / ep8->activations, 1.0, 1e-12);
  ModelShape no_mtp = m;
  no_mtp.mtp_num_layers = 0;
  ModelShape one_depth = m;
  one_depth.mtp_num_layers = 1;
  const MemoryInputs in = inputs(8, 1, 1, 1, 1, 8, 1, 1, 8);
  const double depth =
      estimate_memory(one_depth, in)->activations - estimate_memory(no_mtp, in)->activations;
  EXPECT_GT(depth, 0);
  EXPECT_NEAR(estimate_memory(m, in)->activations - estimate_memory(one_depth, in)->activations,
              depth, 1.0);
  EXPECT_DOUBLE_EQ(parameters(one_depth), parameters(m));
}

TEST(GpuMemory, BuiltInTableWithSources) {
  ASSERT_TRUE(gpu_memory_of("h100"));
  EXPECT_NEAR(gpu_memory_of("h100")->gib, 79.6, 0.05);
  EXPECT_NEAR(gpu_memory_of("H100")->gib, 79.6, 0.05);
  for (const char* t : {"b200", "b300", "gb200", "gb300", "h200"}) {
    SCOPED_TRACE(t);
    ASSERT_TRUE(gpu_memory_of(t));
    EXPECT_GT(gpu_memory_of(t)->gib, gpu_memory_of("h100")->gib);
    EXPECT_FALSE(gpu_memory_of(t)->source.empty());
  }
  EXPECT_FALSE(gpu_memory_of("mi300x"));
  EXPECT_NE(gpu_memory_table().find("gb300"), std::string::npos);
}

}  // namespace
}  // namespace bp::mbridge
