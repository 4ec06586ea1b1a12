// Test TOML: the reader, the test schema and each workload's validation (Sleep, MegatronBridge).
#include "config/toml_reader.h"
#include "fuzz_common.h"
#include "loaders/load_test.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bp::fuzz::quiet_logs();
  try {
    bp::parse_test_table(bp::read_toml_string(bp::fuzz::text(data, size), "test.toml"));
  } catch (const bp::ConfigError&) {
  }
  return 0;
}
