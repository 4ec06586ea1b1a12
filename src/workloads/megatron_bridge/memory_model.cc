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
// Megatron's contiguous buffers. benchpilot's assumption, not a measured figure (item 7's
// calibration corrects it per system): 15 % of the activations. Megatron-Bridge's Llama3-70B
// tp4/pp4/vp5 SFT on 32 H100, which failed from fragmentation until expandable_segments:True,
// then comes out at the GPU's limit (flagged near it).
constexpr double kFragmentationOfActivations = 0.15;
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

// Everything the formula needs that does not depend on the point's parallelism.
struct Shape {
  double h = 0, ffn = 0, moe_ffn = 0, shared = 0, topk = 0;
  double dense_layer_params = 0;  // attention + layer norms + dense MLP
  double moe_layer_params = 0;    // attention + layer norms + shared expert (no latent MoE)
  double routed_layer_params = 0;
  double final_layernorm = 0;
  LayerCounts layers;
  int64_t seq_length = 0;
};

std::optional<Shape> shape_of(const ModelShape& m, const MemoryInputs& in) {
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
  // Not modelled: Mamba layers (hybrid models). An MoE model needs its expert size: the
  // catalog leaves it 0 when the recipe's shape was not read.
  if (m.is_hybrid()) return std::nullopt;
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
  const double attention = 2 * s.h * s.h * ((1 + groups / heads) * query_to_hidden);
  const double layernorms = 4 * s.h;
  s.dense_layer_params = attention + layernorms + projections * s.h * s.ffn;
  s.moe_layer_params = attention + layernorms + projections * s.h * s.shared;
  s.routed_layer_params =
      m.is_moe() ? projections * s.h * s.moe_ffn * static_cast<double>(m.num_moe_experts) : 0;
  s.final_layernorm = 2 * s.h;
  s.layers = layer_counts(m, num_layers);
  s.seq_length = or_default(in.seq_length, m.seq_length);
  if (s.seq_length <= 0) return std::nullopt;
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
  const double dense_transformer = s.dense_layer_params * static_cast<double>(s.layers.dense) +
                                   s.moe_layer_params * static_cast<double>(s.layers.moe) +
                                   s.final_layernorm;
  const double embedding = s.h * padded_vocab(m, static_cast<int64_t>(p.tp));
  double embedding_on_shard = embedding / p.tp;
  if (m.untie_embeddings_and_output_weights && p.pp == 1) embedding_on_shard += embedding / p.tp;
  r.dense = dense_transformer / (p.pp * p.tp) + embedding_on_shard;
  r.routed = s.routed_layer_params * static_cast<double>(s.layers.moe) / (p.pp * p.ep * p.etp);
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

// The coefficient sum after what the launcher's recompute and offload flags change, which
// Megatron-Bridge's formula does not model. Per layer (arXiv 2205.05198, Table 2 with flash
// attention): 18 = attention 11 + MLP input 2 + MLP dropout mask 1 + two layer-norm outputs 4;
// 4 ffn/h = the MLP's first GEMM output and its activation output (2 bytes each).
double adjusted_coefficients(const Shape& s, const Parallel& p, const MemoryInputs& in) {
  const double dense = static_cast<double>(s.layers.dense);
  const double moe = static_cast<double>(s.layers.moe);
  const double layers = dense + moe;
  double c = layer_coefficients(s);
  const uint32_t rec = in.recompute_modules;
  if (rec != 0) {
    // Selective recompute of these modules keeps only their inputs.
    if (rec & kRecomputeMlp) c -= 4.0 * dense * s.ffn / s.h;
    if (rec & kRecomputeMoe)
      c -= 4.0 * moe * (s.moe_ffn * s.topk) / s.h;
    else if (rec & kRecomputeMoeAct)
      c -= 2.0 * moe * (s.moe_ffn * s.topk) / s.h;  // the activation output only
    if (rec & kRecomputeSharedExperts) c -= 4.0 * moe * s.shared / s.h;
    if (rec & kRecomputeLayernorm) c -= 4.0 * layers;
    // core_attn: already assumed by the formula (flash attention stores no s^2 scores);
    // mla_up_proj: not modelled (it recomputes a small share of MLA's attention block).
  } else if (in.recompute_num_layers > 0) {
    // Full recompute, method "block": the first N layers of each model chunk keep only their
    // input (2 bytes per element).
    const double per_chunk = layers / (p.pp * p.vp);
    const double f = std::min(1.0, static_cast<double>(in.recompute_num_layers) / per_chunk);
    c = (1 - f) * c + f * 2.0 * layers;
  }
  if (in.offload_layers > 0) {
    // CPU offload moves the activations of that many layers per chunk to host memory.
    const double per_chunk = layers / (p.pp * p.vp);
    c *= 1 - std::min(1.0, static_cast<double>(in.offload_layers) / per_chunk);
  }
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
  std::optional<Shape> s = shape_of(m, in);
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
  std::optional<Shape> s = shape_of(m, in);
  if (!s) return std::nullopt;
  const Parallel p = parallel_of(in);
  const ShardParams sp = shard_params(m, *s, p);
  MemoryBreakdown b;
  // bf16 weights (2 bytes), fp32 gradients (4), fp32 master weights and Adam's two moments (12),
  // the optimizer sharded over the data-parallel group by the distributed optimizer.
  const double params = sp.dense + sp.routed;
  b.weights = 2 * params;
  b.gradients = 4 * params;
  b.optimizer = (bytes_per_parameter(in.distributed_optimizer, sp.dense_shard) - 6) * sp.dense +
                (bytes_per_parameter(in.distributed_optimizer, sp.expert_shard) - 6) * sp.routed;
  if (in.megatron_fsdp) {
    // Megatron FSDP (optim_grads_params) shards weights and gradients too.
    const double dense_share = sp.dense / std::max(1.0, sp.dense_shard);
    const double routed_share = sp.routed / std::max(1.0, sp.expert_shard);
    b.weights = 2 * (dense_share + routed_share);
    b.gradients = 4 * (dense_share + routed_share);
    b.optimizer = 12 * (dense_share + routed_share);
  }
  b.activations = activation_bytes(m, *s, p, in, adjusted_coefficients(*s, p, in));
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
