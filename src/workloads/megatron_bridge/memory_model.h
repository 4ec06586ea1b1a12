// GPU memory of one Megatron-Bridge training point, for the most-loaded rank.
//
// Two layers: megatron_theoretical_memory() is a faithful port of Megatron-Bridge v0.6.0's
// `estimate_training_memory` (src/megatron/bridge/training/utils/theoretical_memory_utils.py,
// the "Theoretical memory footprints" line of every log; tools/estimator/memory_reference.py
// runs the Python original on the unit tests' configurations). estimate_memory() is benchpilot's
// own count on the same parameter split: bf16 weights and gradients (the performance recipes
// reduce gradients in bf16), the distributed optimizer's fp32 state, MLA's real projections,
// the tensors each layer saves for its backward pass (gated MLPs, routed-token copies, FP8
// copies of GEMM inputs), hybrid models' Mamba layers (Megatron-Core's MambaMixer), what the
// launcher's recompute, offload and FSDP flags change, and the fixed costs (CUDA context, NCCL
// buffers, allocator fragmentation, CUDA graphs), each a named constant in memory_model.cc with its
// source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/estimate.h"
#include "workloads/megatron_bridge/model_catalog.h"

namespace bp::mbridge {

// recompute_modules as bits; the same order as the sweep rules' RecBit (constraints.cc).
enum RecomputeModule : uint32_t {
  kRecomputeCoreAttn = 1u << 0,
  kRecomputeMlaUpProj = 1u << 1,
  kRecomputeMlp = 1u << 2,
  kRecomputeMoeAct = 1u << 3,
  kRecomputeMoe = 1u << 4,
  kRecomputeSharedExperts = 1u << 5,
  kRecomputeLayernorm = 1u << 6,
};

// One point as Megatron receives it (recipe defaults already resolved).
struct MemoryInputs {
  int64_t num_gpus = 8;
  int64_t tp = 1, pp = 1, cp = 1;
  int64_t vp = 1;  // 1: no virtual pipeline (Megatron's None)
  int64_t ep = 1;
  int64_t etp = 0;  // 0: Megatron's default, tp
  int64_t mb = 1;
  int64_t gb = 0;          // 0: unknown (the formula then assumes pp micro-batches in flight)
  int64_t seq_length = 0;  // 0: the shape's
  int64_t num_layers = 0;  // 0: the shape's
  bool distributed_optimizer = true;  // every Megatron-Bridge performance recipe sets it
  bool megatron_fsdp = false;
  bool cuda_graphs = false;
  uint32_t recompute_modules = 0;    // RecomputeModule bits (selective recompute)
  int64_t recompute_num_layers = 0;  // full recompute, method "block" (the launcher's -rl)
  int64_t offload_layers = 0;        // activation_offload_layers (-ol)
  // compute_dtype fp8_* or nvfp4: Transformer Engine saves the inputs of its GEMMs for the
  // backward pass in 1 byte (FP8) instead of 2 (estimate_memory only).
  bool low_precision_gemm_inputs = false;
};

// Megatron-Bridge's own two figures, in bytes.
struct MegatronMemory {
  double weight_and_optimizer = 0;
  double activation = 0;
};

// Bytes on the most-loaded GPU. `other` is the sum of the four fixed costs listed after it.
struct MemoryBreakdown {
  double weights = 0, gradients = 0, optimizer = 0, activations = 0, other = 0;
  double cuda_context = 0, nccl_buffers = 0, fragmentation = 0, cuda_graphs = 0;
  double total() const { return weights + gradients + optimizer + activations + other; }
};

// Megatron-Bridge v0.6.0's estimate (activations with its assumptions: sequence parallelism and
// selective recompute). nullopt when the shape lacks a field the formula needs, and for hybrid
// (Mamba) models, which Bridge's formula does not count.
std::optional<MegatronMemory> megatron_theoretical_memory(const ModelShape& m,
                                                          const MemoryInputs& in);

// The estimate benchpilot judges by; nullopt as above.
std::optional<MemoryBreakdown> estimate_memory(const ModelShape& m, const MemoryInputs& in);

// In GiB, the fixed costs named in `details`.
MemoryEstimate to_gib(const MemoryBreakdown& b);

// Usable memory of one GPU of a Megatron-Bridge gpu_type (h100, b200, gb200, ...), in GiB, and
// where the figure comes from; nullopt for an unknown type.
struct GpuMemory {
  double gib = 0;
  std::string_view source;
};
std::optional<GpuMemory> gpu_memory_of(std::string_view gpu_type);

// "h100 79.6 GiB (...)" lines for documentation and `estimate -v`.
std::string gpu_memory_table();

}  // namespace bp::mbridge
