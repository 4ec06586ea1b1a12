// Shared by the libFuzzer targets (scripts/fuzz.sh builds them with clang, ASan and UBSan).
// A target feeds arbitrary bytes to one parser; the only acceptable outcomes are a result or
// one of the documented exceptions. Anything else (a crash, a sanitizer report, an uncaught
// exception, a timeout or running out of memory) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/log.h"

namespace bp::fuzz {

inline std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Warnings about odd configs are expected and would only slow the fuzzer down.
inline void quiet_logs() {
  static bool done = [] {
    log::init(log::Level::kError);
    return true;
  }();
  (void)done;
}

}  // namespace bp::fuzz
