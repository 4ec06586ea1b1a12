#include "store/record_runs.h"

#include "core/run_label.h"
#include "store/store.h"
#include "util/log.h"

namespace bp {

namespace fs = std::filesystem;

std::vector<Reference> scenario_references(std::vector<Reference> from_file,
                                           const Scenario& scenario) {
  std::vector<Reference> references = std::move(from_file);
  for (const TestRun& run : scenario.runs)
    for (Reference ref : run.test.references) {
      ref.case_id = run.id;
      references.push_back(std::move(ref));
    }
  return references;
}

namespace {

// Sets the records' gate verdicts (runs and verdicts in the same order); returns the regressions.
int apply_verdicts(const std::vector<StoredRun>& runs, const std::vector<GateVerdict>& verdicts,
                   std::vector<RunRecord>& records) {
  int regressions = 0;
  for (size_t i = 0; i < runs.size(); ++i)
    for (RunRecord& rec : records) {
      if (fs::absolute(rec.run_dir).lexically_normal().string() != runs[i].run_dir) continue;
      rec.perf_verdict = verdicts[i].text;
      if (!verdicts[i].regression) continue;
      ++regressions;
      log::error("regression: " + run_label(runs[i].case_id, rec.iteration, rec.step) + ": " +
                 verdicts[i].text);
    }
  return regressions;
}

}  // namespace

int record_runs(const fs::path& store_path, const fs::path& results_root,
                std::vector<RunRecord>& records, const IndexContext& ctx,
                const std::vector<Reference>& references, const RecordOptions& o) {
  if (records.empty()) return 0;
  int regressions = 0;
  try {
    std::vector<StoredRun> runs = runs_from_records(results_root, records, ctx);
    std::unique_ptr<ResultsStore> store = open_sqlite_store(store_path);
    if (o.judge)
      regressions = apply_verdicts(
          runs,
          regression_verdicts(runs, references, store.get(), o.compare, o.unmatched_last_passing),
          records);
    store->record(runs);
    log::info("recorded " + std::to_string(runs.size()) + " run(s) in " + store_path.string());
  } catch (const std::exception& e) {
    log::warn(std::string("results store: ") + e.what() +
              " (the results folder is complete; `benchpilot index` can record it later)");
  }
  return regressions;
}

}  // namespace bp
