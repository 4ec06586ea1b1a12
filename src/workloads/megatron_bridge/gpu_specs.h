// Per-GPU-type hardware figures the step-time model needs: dense tensor-core peaks per compute
// dtype, HBM bandwidth, NVLink bandwidth and domain size, and the scale-out network per GPU.
// One row per GPU type in a plain constexpr table, so adding a column (e.g. memory) is one edit.
#pragma once

#include <string_view>

namespace bp {

struct GpuSpec {
  std::string_view gpu_type;  // as in cmd_args.gpu_type (lower case)
  double bf16_tflops;         // dense (no sparsity), per GPU
  double fp8_tflops;          // dense; fp8_cs and fp8_mx run at this rate
  double fp4_tflops;          // dense NVFP4; 0: not supported (nvfp4 then runs at fp8's rate)
  double hbm_tb_per_s;
  double nvlink_gb_per_s;   // per GPU, one direction
  int nvlink_domain;        // GPUs one NVLink domain joins (8: DGX/HGX, 72: NVL72)
  double network_gb_per_s;  // scale-out per GPU, one direction (one 400 Gb/s NIC = 50 GB/s)
};

// The row of a GPU type (case-insensitive), or nullptr when unknown.
const GpuSpec* find_gpu_spec(std::string_view gpu_type);

// Dense peak TFLOP/s for a compute_dtype (bf16, fp8_cs, fp8_mx, nvfp4; other fp8 spellings run
// at the fp8 rate); 0 when the dtype is not understood.
double peak_tflops(const GpuSpec& gpu, std::string_view compute_dtype);

}  // namespace bp
