// Reference values and the regression gate (`run --fail-on-regression`).
//
// References (core/test_definition.h's PerfReference, syntax in loaders/perf_reference.h) come
// from a reference file (`--reference FILE`, `[[reference]]` tables that may name `case` and
// `model`) and from the `reference` key of test TOMLs and scenario cases. The first that matches
// a run judges it: the expected mean of the workload's comparison metric (`value`, or its older
// name `step_time`: seconds of step time, GB/s of bus bandwidth, ...) ± tolerance, or "no worse
// than the last passing run of the same configuration on this system" (from the results store).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/value.h"
#include "core/test_definition.h"
#include "store/compare.h"
#include "store/store.h"

namespace bp {

using Reference = PerfReference;

// Reads a reference file. Throws ConfigError naming file, line, key and what was expected.
std::vector<Reference> load_references(const std::filesystem::path& file);

struct GateVerdict {
  bool regression = false;
  std::string
      text;  // "ok: -0.3% vs 9.200 s ±5%", "REGRESSION: +5.1% (p=0.0002) vs last passing run ..."
};

// The verdict for each run (same order); runs without a verdict (failed, no baseline) get an
// explanatory text and no regression. `store` may be null (then last_passing has no baseline).
// A run no reference matches is judged against the last passing run when
// `unmatched_last_passing`, else gets "no reference".
std::vector<GateVerdict> regression_verdicts(const std::vector<StoredRun>& runs,
                                             const std::vector<Reference>& references,
                                             ResultsStore* store, const CompareOptions& o,
                                             bool unmatched_last_passing);

}  // namespace bp
