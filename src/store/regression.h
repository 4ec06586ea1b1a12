// Reference values and the regression gate (`run --fail-on-regression`).
//
// A reference file (TOML, `--reference FILE`) lists what runs should achieve:
//
//   [[reference]]
//   case = "llama"            # optional: which runs it applies to (case id,
//   model = "llama3_8b"       #   model recipe, parameters); the first match wins
//   params = { tp = 2 }
//   value = 9.2               # expected mean of the workload's comparison metric (step time
//   tolerance = 0.05          #   in s, bus bandwidth in GB/s, ...) within ±5 % (default);
//                             #   `step_time` is the older name of `value`
//
//   [[reference]]
//   baseline = "last_passing" # no worse than the last passing run of the same configuration
//                             # on this system (from the results store)
//
// Without a reference file the gate uses "last_passing" for every run.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/value.h"
#include "store/compare.h"
#include "store/store.h"

namespace bp {

struct Reference {
  std::string case_id, model;
  std::vector<std::pair<std::string, std::string>> params;  // "cmd_args.tp" -> "2"
  std::optional<double> step_time;  // expected mean of the workload's comparison metric
  double tolerance = 0.05;
  bool last_passing = false;
  SourceLoc loc;
};

// Reads a reference file. Throws ConfigError naming file, line, key and what was expected.
std::vector<Reference> load_references(const std::filesystem::path& file);

struct GateVerdict {
  bool regression = false;
  std::string
      text;  // "ok: -0.3% vs 9.200 s ±5%", "REGRESSION: +5.1% (p=0.0002) vs last passing run ..."
};

// The verdict for each run (same order); runs without a verdict (failed, no baseline) get an
// explanatory text and no regression. `store` may be null (then last_passing has no baseline).
std::vector<GateVerdict> regression_verdicts(const std::vector<StoredRun>& runs,
                                             const std::vector<Reference>& references,
                                             ResultsStore* store, const CompareOptions& o);

}  // namespace bp
