// System TOML: the reader (toml++ and our Value tree) and the system schema.
#include <stdexcept>

#include "config/toml_reader.h"
#include "fuzz_common.h"
#include "loaders/load_system.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bp::fuzz::quiet_logs();
  try {
    bp::parse_system_table(bp::read_toml_string(bp::fuzz::text(data, size), "system.toml"));
  } catch (const bp::ConfigError&) {
  }
  return 0;
}
