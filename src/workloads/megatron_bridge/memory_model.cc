#include "workloads/megatron_bridge/memory_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace bp::mbridge {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// ---- Fixed costs Megatron's formula leaves out (its own docstring lists them as excluded) ----

// CUDA context plus the cuBLAS/cuDNN/Transformer Engine workspaces of one training process: what
// nvidia-smi shows above torch.cuda.memory_reserved() for a Megatron process on H100 (0.5-0.7
// GiB; the context is never counted by PyTorch's allocator, see PyTorch's "CUDA semantics:
// memory management" notes).
constexpr double kCudaContextGiB = 0.6;
// NCCL's buffers per communicator that carries traffic: NCCL_BUFFSIZE (4 MiB, NCCL's default)
// per channel and direction, up to 32 channels on NVLink systems: 2 x 32 x 4 MiB = 256 MiB.
// Counted for each parallel group of more than one rank (tp, cp, dp, pp; ep and expert tp in
// MoE models).
constexpr double kNcclGiBPerGroup = 0.25;
// PyTorch's caching allocator reserves more than it allocates, mostly for activations (blocks of
// many sizes freed and reused each micro-batch); weights, gradients and the optimizer live in
// Megatron's contiguous buffers. Nearly every Megatron-Bridge v0.6.0 performance recipe sets
// PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True (perf_recipes/*/*.py), which Megatron-Bridge's
// memory-tuning guide credits with removing fragmentation-induced OOMs
// (skills/nemo-mbridge-perf-memory-tuning/SKILL.md @ v0.6.0): benchpilot's assumption, not a
// measured figure (the calibration from finished runs corrects it per system), is 5 % of the
// activations. Without expandable segments it can be far more: the guide's Llama3-70B SFT on 32
// H100 ran out with 58.8 GB allocated, which is why E1 warns from kNearLimitFrom.
constexpr double kFragmentationOfActivations = 0.05;
// Gradient buffers: every Megatron-Bridge performance recipe sets ddp.grad_reduce_in_fp32 = False
// (perf_recipes/_common.py::_benchmark_common @ v0.6.0; configs/*/*_llm_pretrain.py @ v0.3.0), so
// main gradients are bf16; a catalog entry with grad_reduce_in_fp32 = true (Kimi K2) keeps fp32.
// Megatron's formula counts 4 bytes (its 6 = 2 for bf16 weights + 4 for fp32 gradients).
constexpr double kBf16GradientBytes = 2.0;
constexpr double kFp32GradientBytes = 4.0;
// CUDA graphs (cuda_graph_impl set): a private memory pool per captured graph keeps its static
// inputs/outputs alive between replays, about a fifth of the activations in Transformer Engine's
// per-layer graphs, plus the graphs' own allocations (about 1 GiB in Megatron-LM's reports).
constexpr double kCudaGraphOfActivations = 0.2;
constexpr double kCudaGraphFixedGiB = 1.0;

// ---- Megatron-Bridge v0.6.0's formula --------------------------------------------------------

int64_t or_default(int64_t v, int64_t fallback) {
  return v > 0 ? v : fallback;
}

// Megatron's padded vocabulary: up to a multiple of make_vocab_size_divisible_by x tp.
double padded_vocab(const ModelShape& m, int64_t tp) {
  const int64_t multiple = or_default(m.make_vocab_size_divisible_by, 128) * tp;
  return static_cast<double>((m.vocab_size + multiple - 1) / multiple * multiple);
}

// Layers by type, MTP layers included (they copy the last layer's type), as
// _get_moe_layer_pattern counts them.
struct LayerCounts {
  int64_t dense = 0, moe = 0;
  int64_t total() const { return dense + moe; }
};

LayerCounts layer_counts(const ModelShape& m, int64_t num_layers) {
  LayerCounts c;
  if (!m.is_moe()) {
    c.dense = num_layers;
  } else if (static_cast<int64_t>(m.moe_layer_pattern.size()) == num_layers) {
    for (int is_moe : m.moe_layer_pattern) (is_moe ? c.moe : c.dense) += 1;
  } else {
    c.dense = std::min(num_layers, m.first_k_dense_replace);
    c.moe = num_layers - c.dense;
  }
  const bool last_is_moe =
      m.is_moe() && (static_cast<int64_t>(m.moe_layer_pattern.size()) == num_layers
                         ? m.moe_layer_pattern.back() != 0
                         : c.moe > 0);
  (last_is_moe ? c.moe : c.dense) += m.mtp_num_layers;
  return c;
}

// Layers of a hybrid model by type (hybrid_layer_pattern: M Mamba, * attention, - MLP, E MoE).
struct HybridLayers {
  double mamba = 0, attention = 0, mlp = 0, moe = 0;
  double total() const { return mamba + attention + mlp + moe; }
};

HybridLayers hybrid_layers_of(const std::string& pattern) {
  HybridLayers n;
  for (char c : pattern) {
    if (c == 'M') n.mamba += 1;
    if (c == '*') n.attention += 1;
    if (c == '-') n.mlp += 1;
    if (c == 'E') n.moe += 1;
  }
  return n;
}

// Everything the formula needs that does not depend on the point's parallelism.
struct Shape {
  double h = 0, ffn = 0, moe_ffn = 0, shared = 0, topk = 0;
  double dense_layer_params = 0;  // attention + layer norms + dense MLP
  double moe_layer_params = 0;    // attention + layer norms + shared expert (no latent MoE)
  double routed_layer_params = 0;
  double final_layernorm = 0;
  // All layers' non-routed parameters (MTP included) with the final norm, and all routed experts.
  double block_params = 0, routed_params = 0;
  LayerCounts layers;
  // Hybrid (Mamba) models: layers by type, MTP depths included; the Mamba mixer's widths and the
  // latent MoE width (elements per token).
  bool hybrid = false;
  HybridLayers hybrid_layers;
  double mamba_in_proj = 0, mamba_inner = 0, latent = 0;
  int64_t seq_length = 0;
  // Per token, in elements: the query, key and value widths attention keeps for its backward
  // pass, its output width, and (MLA) the compressed latents the up-projections read.
  double q = 0, k = 0, v = 0, attn_out = 0, latents = 0;
  bool mla = false;
};

// How the attention block's parameters are counted.
enum class Count {
  kMegatron,  // as Megatron-Bridge's formula: 2h^2 (1 + groups/heads) (kv_channels heads / h)
  kExact,     // MLA's real projections where the catalog gives its ranks (estimate_memory)
};

// MLA's projections: q down/up (or one q projection without q_lora_rank), kv down (with the
// shared rotary key) and up, output, and the two latent layer norms.
double mla_attention_params(const ModelShape& m, double h) {
  const double n = static_cast<double>(m.num_attention_heads);
  const double qk = static_cast<double>(m.qk_head_dim),
               pos = static_cast<double>(m.qk_pos_emb_head_dim);
  const double v = static_cast<double>(m.v_head_dim), q_lora = static_cast<double>(m.q_lora_rank);
  const double kv_lora = static_cast<double>(m.kv_lora_rank);
  const double q = q_lora > 0 ? h * q_lora + q_lora + q_lora * n * (qk + pos) : h * n * (qk + pos);
  const double kv = h * (kv_lora + pos) + kv_lora + kv_lora * n * (qk + v);
  return q + kv + n * v * h;
}

bool has_mla_ranks(const ModelShape& m) {
  return m.multi_latent_attention && m.kv_lora_rank > 0 && m.qk_head_dim > 0 && m.v_head_dim > 0;
}

// The attention widths of Shape (elements per token).
void attention_widths(const ModelShape& m, double kv_channels, double heads, double groups,
                      Shape& s) {
  if (has_mla_ranks(m)) {
    const double qk = static_cast<double>(m.qk_head_dim + m.qk_pos_emb_head_dim);
    s.mla = true;
    s.q = s.k = heads * qk;
    s.v = s.attn_out = heads * static_cast<double>(m.v_head_dim);
    s.latents = static_cast<double>(m.q_lora_rank + m.kv_lora_rank + m.qk_pos_emb_head_dim);
    return;
  }
  s.q = s.attn_out = kv_channels * heads;
  s.k = s.v = kv_channels * groups;
}

// ---- Hybrid (Mamba) models: benchpilot's count (Megatron-Bridge's formula has no Mamba layer) --

// Megatron-Core's MambaMixer (megatron/core/ssm/mamba_mixer.py at the Megatron-LM commit
// Megatron-Bridge v0.6.0 pins, cd4afff): its causal convolution's kernel, d_conv, keeps its
// default of 4 (the Mamba layer specs do not set it; Hugging Face's conv_kernel is 4 too).
constexpr double kMambaConvKernel = 4;

// One Mamba layer's parameters: its RMS norm (fused into in_proj), in_proj (h to z, x, B, C
// and dt: 2 d_inner + 2 groups state + heads, no bias), the depthwise conv1d over x, B and C
// (weight and bias), dt_bias, A_log and D (one per head), the gated RMS norm over d_inner and
// out_proj (d_inner to h). nullopt without the Mamba fields. d_inner = heads x head_dim; heads
// default to 2 h / head_dim (Megatron's expand = 2).
std::optional<double> mamba_layer_params(const ModelShape& m, double h, Shape& s) {
  if (m.mamba_state_dim <= 0 || m.mamba_head_dim <= 0 || m.mamba_num_groups <= 0)
    return std::nullopt;
  const double head_dim = static_cast<double>(m.mamba_head_dim);
  const double heads =
      m.mamba_num_heads > 0 ? static_cast<double>(m.mamba_num_heads) : std::floor(2 * h / head_dim);
  const double inner = heads * head_dim;
  const double bc = 2 * static_cast<double>(m.mamba_num_groups * m.mamba_state_dim);
  s.mamba_inner = inner;
  s.mamba_in_proj = 2 * inner + bc + heads;
  return h + h * s.mamba_in_proj + (inner + bc) * (kMambaConvKernel + 1) + 3 * heads + inner +
         inner * h;
}

// Parameters and layer counts of a hybrid model. Each layer of the pattern is one block with
// its own RMS norm (h): Mamba, attention (`attention` as counted for transformers), MLP, or MoE
// (router weight and the expert-bias buffer per expert, shared expert, latent projections h to
// latent and back; routed experts run on the latent width when there is one). An MTP depth is
// mtp_hybrid_layer_pattern plus its two input norms, its 2h-to-h projection and final norm;
// every v0.6.0 hybrid recipe with MTP repeats one such block (mtp_use_repeated_layer = True,
// perf_recipes/nemotronh/*/nemotronh.py; the bridge's default from HF configs too), so its
// parameters count once and its activations once per depth.
bool hybrid_shape(const ModelShape& m, const MemoryInputs& in, double attention, double projections,
                  Shape& s) {
  const std::string& pattern = m.hybrid_layer_pattern;
  const bool mtp = m.mtp_num_layers > 0;
  // Megatron rejects a pattern whose length is not num_layers.
  if (pattern.empty() || (mtp && m.mtp_hybrid_layer_pattern.empty()) ||
      (in.num_layers > 0 && in.num_layers != static_cast<int64_t>(pattern.size())))
    return false;
  const double h = s.h;
  const HybridLayers main = hybrid_layers_of(pattern);
  const HybridLayers depth = mtp ? hybrid_layers_of(m.mtp_hybrid_layer_pattern) : HybridLayers{};
  double mamba = 0;
  if (main.mamba + depth.mamba > 0) {
    std::optional<double> p = mamba_layer_params(m, h, s);
    if (!p) return false;
    mamba = *p;
  }
  const double experts = static_cast<double>(m.num_moe_experts);
  s.latent = static_cast<double>(m.moe_latent_size);
  const double expert_width = s.latent > 0 ? s.latent : h;
  const double moe = h + experts * (h + 1) + projections * h * s.shared + 2 * h * s.latent;
  auto params = [&](const HybridLayers& n) {
    return n.mamba * mamba + n.attention * (h + attention) + n.mlp * (h + projections * h * s.ffn) +
           n.moe * moe;
  };
  s.block_params = params(main) + h;
  if (mtp) s.block_params += params(depth) + 2 * h * h + 3 * h;
  s.routed_params = (main.moe + depth.moe) * experts * projections * expert_width * s.moe_ffn;
  const double depths = static_cast<double>(m.mtp_num_layers);
  s.hybrid = true;
  s.hybrid_layers = {main.mamba + depths * depth.mamba, main.attention + depths * depth.attention,
                     main.mlp + depths * depth.mlp, main.moe + depths * depth.moe};
  return true;
}

std::optional<Shape> shape_of(const ModelShape& m, const MemoryInputs& in, Count count) {
  const int64_t num_layers = or_default(in.num_layers, m.num_layers);
  if (m.hidden_size <= 0 || m.num_attention_heads <= 0 || num_layers <= 0 || m.vocab_size <= 0)
    return std::nullopt;
  Shape s;
  s.h = static_cast<double>(m.hidden_size);
  // Megatron's defaults: ffn_hidden_size = 4h, kv_channels = h / heads.
  s.ffn = static_cast<double>(or_default(m.ffn_hidden_size, 4 * m.hidden_size));
  const double heads = static_cast<double>(m.num_attention_heads);
  const double kv_channels =
      static_cast<double>(or_default(m.kv_channels, m.hidden_size / m.num_attention_heads));
  const double groups = static_cast<double>(or_default(m.num_query_groups, m.num_attention_heads));
  // Megatron-Bridge's formula has no Mamba layers (benchpilot's count has, hybrid_shape). An MoE
  // model needs its expert size: the catalog leaves it 0 when the recipe's shape was not read.
  if (m.is_hybrid() && count == Count::kMegatron) return std::nullopt;
  if (m.is_moe()) {
    if (m.moe_router_topk <= 0 || m.moe_ffn_hidden_size <= 0) return std::nullopt;
    s.moe_ffn = static_cast<double>(m.moe_ffn_hidden_size);
    s.topk = static_cast<double>(m.moe_router_topk);
    s.shared = static_cast<double>(m.moe_shared_expert_intermediate_size);
  }
  // Megatron-Bridge counts 3 projections for SwiGLU (gated + silu); the catalog's gated units
  // are SwiGLU.
  const double projections = m.gated_linear_unit ? 3.0 : 2.0;
  const double query_to_hidden = kv_channels * heads / s.h;
  const double attention = count == Count::kExact && has_mla_ranks(m)
                               ? mla_attention_params(m, s.h)
                               : 2 * s.h * s.h * ((1 + groups / heads) * query_to_hidden);
  if (m.is_hybrid()) {
    if (!hybrid_shape(m, in, attention, projections, s)) return std::nullopt;
  } else {
    const double layernorms = 4 * s.h;
    s.dense_layer_params = attention + layernorms + projections * s.h * s.ffn;
    s.moe_layer_params = attention + layernorms + projections * s.h * s.shared;
    s.routed_layer_params =
        m.is_moe() ? projections * s.h * s.moe_ffn * static_cast<double>(m.num_moe_experts) : 0;
    s.final_layernorm = 2 * s.h;
    s.layers = layer_counts(m, num_layers);
    s.block_params = s.dense_layer_params * static_cast<double>(s.layers.dense) +
                     s.moe_layer_params * static_cast<double>(s.layers.moe) + s.final_layernorm;
    s.routed_params = s.routed_layer_params * static_cast<double>(s.layers.moe);
  }
  s.seq_length = or_default(in.seq_length, m.seq_length);
  if (s.seq_length <= 0) return std::nullopt;
  attention_widths(m, kv_channels, heads, groups, s);
  return s;
}

struct Parallel {
  double tp, pp, cp, vp, ep, etp, dp;
  bool interleaved;
};

Parallel parallel_of(const MemoryInputs& in) {
  Parallel p;
  p.tp = static_cast<double>(std::max<int64_t>(1, in.tp));
  p.pp = static_cast<double>(std::max<int64_t>(1, in.pp));
  p.cp = static_cast<double>(std::max<int64_t>(1, in.cp));
  p.vp = static_cast<double>(std::max<int64_t>(1, in.vp));
  p.interleaved = in.vp > 1;
  p.ep = static_cast<double>(std::max<int64_t>(1, in.ep));
  p.etp = static_cast<double>(in.etp > 0 ? in.etp : std::max<int64_t>(1, in.tp));
  const int64_t denom =
      std::max<int64_t>(1, in.tp) * std::max<int64_t>(1, in.pp) * std::max<int64_t>(1, in.cp);
  p.dp = static_cast<double>(std::max<int64_t>(1, in.num_gpus / denom));
  return p;
}

double bytes_per_parameter(bool distributed_optimizer, double shard) {
  return distributed_optimizer ? 6.0 + 12.0 / std::max(1.0, shard) : 18.0;
}

// Parameters on the most-loaded shard (the even pipeline split; the launcher sets no uneven
// first/last stage sizes).
struct ShardParams {
  double dense = 0, routed = 0;
  double dense_shard = 1, expert_shard = 1;  // optimizer shard sizes
};

ShardParams shard_params(const ModelShape& m, const Shape& s, const Parallel& p) {
  ShardParams r;
  const double embedding = s.h * padded_vocab(m, static_cast<int64_t>(p.tp));
  double embedding_on_shard = embedding / p.tp;
  if (m.untie_embeddings_and_output_weights && p.pp == 1) embedding_on_shard += embedding / p.tp;
  r.dense = s.block_params / (p.pp * p.tp) + embedding_on_shard;
  r.routed = s.routed_params / (p.pp * p.ep * p.etp);
  r.dense_shard = p.dp * p.cp;
  // Python's floor division of integers, then at least 1.
  r.expert_shard = std::max(1.0, std::floor(p.dp * p.tp * p.cp / std::max(1.0, p.ep * p.etp)));
  return r;
}

// Sum over layers of the per-layer activation coefficient (18 + 4 ffn/h), MTP layers included.
double layer_coefficients(const Shape& s) {
  const double dense = static_cast<double>(s.layers.dense);
  const double moe = static_cast<double>(s.layers.moe);
  return 18.0 * (dense + moe) + 4.0 * (dense * s.ffn + moe * (s.moe_ffn * s.topk + s.shared)) / s.h;
}

// Megatron-Bridge's _compute_activation_memory_bytes with the transformer layers' coefficient
// sum given (the formula's own, or one adjusted for recompute and offload).
double activation_bytes(const ModelShape& m, const Shape& s, const Parallel& p,
                        const MemoryInputs& in, double coefficients) {
  const double sb =
      static_cast<double>(s.seq_length) * static_cast<double>(std::max<int64_t>(1, in.mb));
  double a = sb * s.h * coefficients;
  a += 8 * sb * p.pp;    // input to the embedding, pp micro-batches in flight
  a += sb * s.h * p.pp;  // embedding dropout
  if (p.interleaved) {
    a *= 1 + (p.pp - 1) / (p.pp * p.vp);
  } else if (p.pp > 1 && in.gb > 0) {
    const double microbatches = std::floor(
        static_cast<double>(in.gb) / (static_cast<double>(std::max<int64_t>(1, in.mb)) * p.dp));
    a *= std::min(1.0, microbatches / p.pp);
  }
  if (p.pp == 1) a += sb * s.h * 4 * (1 + padded_vocab(m, static_cast<int64_t>(p.tp)) / s.h);
  return a / (p.tp * p.cp);
}

// Bytes each layer keeps for its backward pass, per token and per unit of hidden size, as
// Transformer Engine layers keep them (flash attention: no s^2 scores; no dropout masks: the
// recipes' dropout is 0). g is the bytes of a saved GEMM input: 2 (bf16), 1 with FP8/FP4
// compute. Where Megatron's 18 + 4 ffn/h (arXiv 2205.05198, Table 2) differs: a gated MLP's
// first GEMM is 2 ffn wide; an MoE layer keeps its top-k routed copies of each token; MLA keeps
// queries and keys of qk_head_dim + qk_pos_emb_head_dim per head.
struct LayerSaves {
  double attention = 0, dense_mlp = 0, moe_mlp = 0, mamba = 0;
};

LayerSaves layer_saves(const ModelShape& m, const Shape& s, const MemoryInputs& in) {
  const uint32_t rec = in.recompute_modules;
  const double g = in.low_precision_gemm_inputs ? 1.0 : 2.0;
  const double fc1_out = m.gated_linear_unit ? 4.0 : 2.0;  // bf16, 2 ffn wide when gated
  const double h = s.h;
  // Layer norm inputs (2 bytes each) stay; with layernorm recompute their outputs (the GEMM
  // inputs that follow them) are recomputed instead of kept.
  const double norm_out = (rec & kRecomputeLayernorm) ? 0.0 : g;
  LayerSaves l;
  const double qkv = 2.0 * (s.q + s.k + s.v) / h;
  const double latents = s.mla ? g * s.latents / h : 0.0;
  const double up_proj = (s.mla && (rec & kRecomputeMlaUpProj)) ? latents : qkv + latents;
  // Output projection: flash attention keeps its bf16 output, which a bf16 GEMM shares; an FP8
  // GEMM keeps its own 1-byte copy.
  const double out_proj = in.low_precision_gemm_inputs ? s.attn_out / h : 0.0;
  l.attention = 2.0 + norm_out + up_proj + 2.0 * s.attn_out / h + out_proj;
  const double dense = fc1_out * s.ffn / h + g * s.ffn / h;
  l.dense_mlp = 2.0 + ((rec & kRecomputeMlp) ? 0.0 : norm_out + dense);
  // MoE: the router's input (bf16), top-k copies of each token into the experts, each expert's
  // first GEMM output and second GEMM input, and the shared expert like a dense MLP.
  const double routed_act = s.topk * g * s.moe_ffn / h;
  // Latent MoE: the copies are latent-wide, and the projection back to h keeps its input.
  const double copy_width = s.latent > 0 ? s.latent / h : 1.0;
  double routed = s.topk * g * copy_width + s.topk * fc1_out * s.moe_ffn / h + routed_act +
                  (s.latent > 0 ? g * s.latent / h : 0.0);
  if (rec & kRecomputeMoeAct) routed -= routed_act;
  const double shared = (rec & kRecomputeSharedExperts) ? 0.0 : (fc1_out + g) * s.shared / h;
  l.moe_mlp = 2.0 + ((rec & kRecomputeMoe) ? 2.0 : 2.0 + routed + shared);
  // Mamba, as Megatron trains it (use_mamba_mem_eff_path: mamba_ssm's
  // mamba_split_conv1d_scan_combined): the norm's input and output (in_proj's input), in_proj's
  // bf16 output (z, x, B, C, dt), which the fused kernel keeps whole and from which it
  // recomputes the convolution and the chunk states in its backward pass, the scan's bf16
  // output before the gated norm, and out_proj's input. Not counted: the per-token fp32 norm
  // statistics (groups x 4 bytes, under 1 % of the rest).
  l.mamba =
      2.0 + norm_out + 2.0 * s.mamba_in_proj / h + 2.0 * s.mamba_inner / h + g * s.mamba_inner / h;
  return l;
}

// The coefficient sum over the layers (MTP layers included) with what the launcher's recompute
// and offload flags change. Full recompute, method "block": the first N layers of each model
// chunk keep only their input (2 bytes); CPU offload moves that many layers per chunk to host.
double saved_coefficients(const ModelShape& m, const Shape& s, const Parallel& p,
                          const MemoryInputs& in) {
  const double dense = static_cast<double>(s.layers.dense);
  const double moe = static_cast<double>(s.layers.moe);
  const LayerSaves l = layer_saves(m, s, in);
  // A hybrid model's layers are each one block (its own norm input among its saves); a
  // transformer layer is attention and an MLP.
  const HybridLayers& n = s.hybrid_layers;
  const double layers = s.hybrid ? n.total() : dense + moe;
  double c = s.hybrid ? n.mamba * l.mamba + n.attention * l.attention + n.mlp * l.dense_mlp +
                            n.moe * l.moe_mlp
                      : layers * l.attention + dense * l.dense_mlp + moe * l.moe_mlp;
  const double per_chunk = layers / (p.pp * p.vp);
  if (in.recompute_modules == 0 && in.recompute_num_layers > 0) {
    const double f = std::min(1.0, static_cast<double>(in.recompute_num_layers) / per_chunk);
    c = (1 - f) * c + f * 2.0 * layers;
  }
  if (in.offload_layers > 0)
    c *= 1 - std::min(1.0, static_cast<double>(in.offload_layers) / per_chunk);
  return std::max(0.0, c);
}

// Expert groups (ep, expert tp) exist only in MoE models.
int communicating_groups(const Parallel& p, bool moe) {
  int n = 0;
  for (double size : {p.tp, p.cp, p.dp, p.pp})
    if (size > 1) ++n;
  if (moe)
    for (double size : {p.ep, p.etp})
      if (size > 1) ++n;
  return n;
}

}  // namespace

std::optional<MegatronMemory> megatron_theoretical_memory(const ModelShape& m,
                                                          const MemoryInputs& in) {
  std::optional<Shape> s = shape_of(m, in, Count::kMegatron);
  if (!s) return std::nullopt;
  const Parallel p = parallel_of(in);
  const ShardParams sp = shard_params(m, *s, p);
  MegatronMemory r;
  r.weight_and_optimizer =
      sp.dense * bytes_per_parameter(in.distributed_optimizer, sp.dense_shard) +
      sp.routed * bytes_per_parameter(in.distributed_optimizer, sp.expert_shard);
  r.activation = activation_bytes(m, *s, p, in, layer_coefficients(*s));
  return r;
}

std::optional<MemoryBreakdown> estimate_memory(const ModelShape& m, const MemoryInputs& in) {
  std::optional<Shape> s = shape_of(m, in, Count::kExact);
  if (!s) return std::nullopt;
  const Parallel p = parallel_of(in);
  const ShardParams sp = shard_params(m, *s, p);
  MemoryBreakdown b;
  // bf16 weights (2 bytes), bf16 gradients (2, fp32 where the recipe reduces in fp32), and the
  // fp32 master weights and Adam's two moments (12) sharded over the data-parallel group by the
  // distributed optimizer.
  const double grad_bytes = m.grad_reduce_in_fp32 ? kFp32GradientBytes : kBf16GradientBytes;
  const double params = sp.dense + sp.routed;
  b.weights = 2 * params;
  b.gradients = grad_bytes * params;
  b.optimizer = (bytes_per_parameter(in.distributed_optimizer, sp.dense_shard) - 6) * sp.dense +
                (bytes_per_parameter(in.distributed_optimizer, sp.expert_shard) - 6) * sp.routed;
  if (in.megatron_fsdp) {
    // Megatron FSDP (optim_grads_params) shards weights and gradients too.
    const double dense_share = sp.dense / std::max(1.0, sp.dense_shard);
    const double routed_share = sp.routed / std::max(1.0, sp.expert_shard);
    b.weights = 2 * (dense_share + routed_share);
    b.gradients = grad_bytes * (dense_share + routed_share);
    b.optimizer = 12 * (dense_share + routed_share);
  }
  b.activations = activation_bytes(m, *s, p, in, saved_coefficients(m, *s, p, in));
  b.cuda_context = kCudaContextGiB * kGiB;
  b.nccl_buffers = kNcclGiBPerGroup * kGiB * communicating_groups(p, m.is_moe());
  b.fragmentation = kFragmentationOfActivations * b.activations;
  if (in.cuda_graphs)
    b.cuda_graphs = kCudaGraphOfActivations * b.activations + kCudaGraphFixedGiB * kGiB;
  b.other = b.cuda_context + b.nccl_buffers + b.fragmentation + b.cuda_graphs;
  return b;
}

MemoryEstimate to_gib(const MemoryBreakdown& b) {
  MemoryEstimate m;
  m.weights = b.weights / kGiB;
  m.gradients = b.gradients / kGiB;
  m.optimizer = b.optimizer / kGiB;
  m.activations = b.activations / kGiB;
  m.other = b.other / kGiB;
  m.details = {{"cuda_context", b.cuda_context / kGiB},
               {"nccl_buffers", b.nccl_buffers / kGiB},
               {"fragmentation", b.fragmentation / kGiB},
               {"cuda_graphs", b.cuda_graphs / kGiB}};
  return m;
}

namespace {

struct GpuRow {
  std::string_view type;
  double gib;
  std::string_view source;
};

// Usable memory as CUDA reports it (cudaMemGetInfo total / nvidia-smi "Total"), not the
// marketing figure: an "80 GB" H100 shows 81559 MiB.
constexpr GpuRow kGpuMemory[] = {
    {"a100", 80.0, "A100 80GB SXM: nvidia-smi total 81920 MiB"},
    {"h100", 79.6, "H100 80GB HBM3 SXM: nvidia-smi total 81559 MiB"},
    {"h200", 140.4, "H200 141GB HBM3e SXM: nvidia-smi total 143771 MiB"},
    {"b200", 179.1, "B200 HGX: nvidia-smi total 183359 MiB"},
    {"gb200", 184.0, "GB200 NVL72: 186 GB HBM3e per GPU (datasheet), less the same ~1 % reserve"},
    {"b300", 268.0, "B300 HGX: 288 GB HBM3e (datasheet, 268.2 GiB), as listed by NVIDIA"},
    {"gb300", 277.0, "GB300 NVL72: 279 GB HBM3e per GPU (datasheet), less the same ~1 % reserve"},
};

}  // namespace

std::optional<GpuMemory> gpu_memory_of(std::string_view gpu_type) {
  std::string lower;
  for (char c : gpu_type) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const GpuRow& r : kGpuMemory)
    if (r.type == lower) return GpuMemory{r.gib, r.source};
  return std::nullopt;
}

std::string gpu_memory_table() {
  std::string out;
  for (const GpuRow& r : kGpuMemory)
    out += fmt::format("{:<6} {:6.1f} GiB  {}\n", r.type, r.gib, r.source);
  return out;
}

}  // namespace bp::mbridge
