#include "workloads/megatron_bridge/gpu_specs.h"

namespace bp {
namespace {

// Sources (vendor datasheets, dense figures = half the "with sparsity" ones they print):
// - h100: NVIDIA H100 Tensor Core GPU datasheet, SXM5: BF16 989 TFLOPS, FP8 1,979 TFLOPS,
//   HBM3 3.35 TB/s, NVLink 900 GB/s bidirectional; DGX H100: 8 GPUs, 8x 400 Gb/s ConnectX-7.
// - h200: NVIDIA H200 datasheet, SXM: same compute as H100, HBM3e 4.8 TB/s; HGX 8-GPU.
// - b200: NVIDIA DGX B200 datasheet (72 PFLOPS FP8 training, 144 PFLOPS FP4 inference for 8
//   GPUs, sparse) -> 2.25 / 4.5 / 9 PFLOPS dense BF16/FP8/FP4 per GPU; HBM3e 8 TB/s; NVLink 5
//   1.8 TB/s bidirectional; 8x 400 Gb/s ConnectX-7.
// - gb200: NVIDIA GB200 NVL72 datasheet, per GPU: 2.5 / 5 / 10 PFLOPS dense BF16/FP8/FP4,
//   HBM3e 8 TB/s, NVLink 5 1.8 TB/s, 72-GPU NVLink domain; one 400 Gb/s NIC per GPU.
// - b300: NVIDIA DGX B300 datasheet (Blackwell Ultra, 8 GPUs): 144 PFLOPS FP4 (sparse) and
//   72 PFLOPS FP8 -> per GPU 13.5 PFLOPS dense FP4 (Blackwell Ultra's dense FP4 is 3/4 of its
//   sparse figure), 4.5 FP8, 2.25 BF16; HBM3e 8 TB/s; 8x 800 Gb/s ConnectX-8.
// - gb300: NVIDIA GB300 NVL72 datasheet (72 GPUs): 1,080 PFLOPS dense FP4, 360 PFLOPS FP8
//   training -> per GPU 15 / 5 / 2.5 PFLOPS dense FP4/FP8/BF16; HBM3e 8 TB/s; NVLink 5 1.8 TB/s,
//   72-GPU domain; one ConnectX-8 800 Gb/s per GPU.
// clang-format off
constexpr GpuSpec kGpuSpecs[] = {
    // gpu_type  bf16   fp8    fp4    HBM TB/s  NVLink GB/s  domain  network GB/s
    {"h100",     989,  1979,      0,  3.35,     450,         8,      50},
    {"h200",     989,  1979,      0,  4.8,      450,         8,      50},
    {"b200",    2250,  4500,   9000,  8.0,      900,         8,      50},
    {"b300",    2250,  4500,  13500,  8.0,      900,         8,     100},
    {"gb200",   2500,  5000,  10000,  8.0,      900,        72,      50},
    {"gb300",   2500,  5000,  15000,  8.0,      900,        72,     100},
};
// clang-format on

bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

const GpuSpec* find_gpu_spec(std::string_view gpu_type) {
  for (const GpuSpec& g : kGpuSpecs)
    if (same_ignoring_case(g.gpu_type, gpu_type)) return &g;
  return nullptr;
}

double peak_tflops(const GpuSpec& gpu, std::string_view compute_dtype) {
  if (same_ignoring_case(compute_dtype, "bf16")) return gpu.bf16_tflops;
  if (same_ignoring_case(compute_dtype, "nvfp4"))
    return gpu.fp4_tflops > 0 ? gpu.fp4_tflops : gpu.fp8_tflops;
  if (same_ignoring_case(compute_dtype.substr(0, 3), "fp8")) return gpu.fp8_tflops;
  return 0;
}

}  // namespace bp
