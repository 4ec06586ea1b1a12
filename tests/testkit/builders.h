// Tiny builders of the objects many tests start from (test kit only, never in the product).
#pragma once

#include <string>
#include <string_view>

#include "core/scenario.h"

namespace bp::testkit {

// A case of the Sleep workload: `id`, `iterations`, test "sleep" with cmd_args
// `seconds = <seconds>` (a TOML value: "[1, 2, 3]" is a sweep), read as if from "t.toml".
TestRun sleep_run(std::string id, int iterations = 1, std::string_view seconds = "1");

}  // namespace bp::testkit
