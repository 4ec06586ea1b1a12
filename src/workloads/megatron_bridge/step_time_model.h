// Predicted training step time of a Megatron-Bridge configuration (issue 17 item 4): a closed
// form over the model shape, the parallel layout and the GPU type's figures (gpu_specs.h), with
// three fitted constants per GPU type and compute dtype (none per model or configuration).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "workloads/megatron_bridge/model_flops.h"

namespace bp {

struct ModelShape;

struct StepTimeInput {
  int64_t tp = 1, pp = 1, cp = 1, vp = 1, ep = 1;
  int64_t etp = 0;  // 0: the shape's expert_tensor_parallel_size, else tp
  int64_t mbs = 1, gbs = 1;
  int64_t seq_length = 0;  // 0: the shape's
  int64_t num_gpus = 1;
  std::string_view gpu_type;
  std::string_view compute_dtype;  // bf16, fp8_cs, fp8_mx, nvfp4
  // How the pinned Megatron-Bridge counts FLOPs, so predicted and measured TFLOP/s/GPU agree.
  FlopsRules flops_rules = FlopsRules::kFrom0_5;
};

// Seconds per training step, by part; the parts add up to step_time_s.
struct StepTimeEstimate {
  double compute_s = 0;       // GEMMs at the calibrated throughput + memory-bound passes
  double bubble_s = 0;        // pipeline fill and drain (interleaving included)
  double tp_comm_s = 0;       // exposed sequence-parallel all-gathers / reduce-scatters
  double cp_comm_s = 0;       // exposed context-parallel key/value exchange
  double ep_comm_s = 0;       // exposed expert all-to-all (dispatch + combine)
  double dp_reduction_s = 0;  // gradient reduce-scatter / parameter all-gather not overlapped
  double optimizer_s = 0;     // Adam step over this rank's shard (HBM-bound) + fixed overhead
  double step_time_s = 0;
  double model_flops_per_token = 0;  // Megatron-Bridge's count (model_flops.h)
  double tokens_per_s_per_gpu = 0;
  double tflops_per_gpu = 0;  // model_flops_per_token · tokens/s/GPU, as Megatron prints it
};

// The three fitted constants of one GPU type and dtype (see step_time_model.cc).
struct StepTimeCalibration {
  std::string_view gpu_type;
  std::string_view compute_dtype;
  double gemm_efficiency;  // achieved fraction of the dense peak on large GEMMs
  // Exposed tp/cp/ep communication per second of transfer at the datasheet bandwidth: below 1
  // part of it hides behind compute, above 1 the achieved bandwidth is below the datasheet's.
  double comm_exposed;
  double step_overhead_s;  // fixed per-step cost (launch, synchronisation, logging)
};

// The calibration used for a GPU type and dtype: the exact row, else the GPU type's bf16 row for
// a dtype the table lacks; nullptr for an unknown GPU type.
const StepTimeCalibration* find_step_time_calibration(std::string_view gpu_type,
                                                      std::string_view compute_dtype);

// nullopt when the shape lacks a field the FLOPs count needs, the GPU type or dtype is unknown,
// or the layout does not divide (num_gpus by tp·pp·cp, gbs by mbs·dp). Closed form, no
// allocation; `calibration` overrides the built-in constants (the fitting script uses it).
std::optional<StepTimeEstimate> estimate_step_time(
    const ModelShape& shape, const StepTimeInput& in,
    const StepTimeCalibration* calibration = nullptr);

}  // namespace bp
