// Reads expected-performance entries (PerfReference) from TOML: a test's or scenario case's
// `reference` key and the `[[reference]]` tables of a `--reference` file share one syntax:
//
//   [reference]                 # or [[reference]] for several, the first match wins
//   params = { tp = 2 }         # optional: only points with these values
//   step_time = 9.2             # expected mean step time (s) ...
//   tolerance = 0.05            # ... within ±5 % (the default)
//   # or: baseline = "last_passing"   (no slower than the last passing run on this system)
//
// A reference file's entries may also name `case` and `model`.
#pragma once

#include <string>
#include <vector>

#include "config/value.h"
#include "core/test_definition.h"

namespace bp {

// `v` is one table or an array of tables at `key_path` ("reference", "Tests[1].reference").
// `selectors`: whether `case` and `model` are allowed (reference files). Throws ConfigError
// naming file, line, key and what was expected.
std::vector<PerfReference> read_perf_references(const Value& v, const std::string& key_path,
                                                bool selectors);

}  // namespace bp
