// The nccl-tests output parser (result table, devices, footer, failure lines).
#include "fuzz_common.h"
#include "workloads/nccl_test/output.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view t = bp::fuzz::text(data, size);
  bp::nccl::Output out = bp::nccl::parse_output(t);
  out.hosts();
  out.peak_row();
  out.mean_time(true);
  out.mean_time(false);
  bp::nccl::parse_number(t.substr(0, 64));
  return 0;
}
