// Slurm host list expansion ("node[01-04],login1"); bounded to 200000 names.

#include "fuzz_common.h"
#include "systems/slurm/node_list.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    bp::expand_node_list(bp::fuzz::text(data, size));
  } catch (const bp::ValueError&) {
  }
  return 0;
}
