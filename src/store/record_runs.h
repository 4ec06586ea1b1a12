// What `run` does with its finished runs: records them in the results store and, when asked,
// passes each through the regression gate. In one place so that `run` (cli/) only says which
// store and which references, and the rule of what is recorded and judged lives with the store.
#pragma once

#include <filesystem>
#include <vector>

#include "core/run_record.h"
#include "core/scenario.h"
#include "store/indexer.h"
#include "store/regression.h"

namespace bp {

struct RecordOptions {
  // Judge each run against the references (or, below, the last passing run).
  bool judge = false;
  // A run no reference matches is judged against the last passing run of its configuration
  // (--fail-on-regression without a reference file).
  bool unmatched_last_passing = false;
  CompareOptions compare;
};

// The references that apply to a scenario's runs, most specific first: the reference file's
// entries (the command line), then each case's own (`reference` in its test or scenario TOML),
// which apply to that case only.
std::vector<Reference> scenario_references(std::vector<Reference> from_file,
                                           const Scenario& scenario);

// Records `records` (the finished runs under `results_root`) in the store at `store_path` and,
// when `o.judge`, sets each record's perf_verdict. Returns how many regressed. The store is an
// index: when it cannot be opened or written the run still succeeds (logged: `benchpilot index`
// rebuilds it), and nothing is judged.
int record_runs(const std::filesystem::path& store_path, const std::filesystem::path& results_root,
                std::vector<RunRecord>& records, const IndexContext& ctx,
                const std::vector<Reference>& references, const RecordOptions& o);

}  // namespace bp
