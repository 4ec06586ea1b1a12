// Time limits as scenarios write them ("90m", "1-12:00:00") and as plan reads them back.

#include "config/time_limit.h"
#include "fuzz_common.h"
#include "sweep/plan.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string t(bp::fuzz::text(data, size));
  try {
    std::string normal = bp::normalize_time_limit(t);
    // A normalized limit must read back as the same number of seconds and hours.
    if (bp::time_limit_seconds(normal) != bp::time_limit_seconds(t)) __builtin_trap();
    if (!bp::time_limit_hours(normal)) __builtin_trap();
  } catch (const bp::ValueError&) {
  }
  bp::time_limit_hours(t);
  return 0;
}
