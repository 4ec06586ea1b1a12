// The Megatron-Bridge launcher log parser (Step Time / TFLOP/s/GPU lines).
#include "fuzz_common.h"
#include "workloads/megatron_bridge/metrics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view t = bp::fuzz::text(data, size);
  bp::mbridge::parse_all_steps(t);
  bp::mbridge::parse_last_steps(t);
  bp::mbridge::parse_step_line(t);
  return 0;
}
