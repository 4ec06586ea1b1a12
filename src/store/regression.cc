#include "store/regression.h"

#include <algorithm>
#include <cstdio>

#include "config/toml_reader.h"
#include "core/run_status.h"
#include "loaders/perf_reference.h"

namespace bp {

namespace {

bool matches(const Reference& ref, const StoredRun& r) {
  if (!ref.case_id.empty() && ref.case_id != r.case_id) return false;
  if (!ref.model.empty() && ref.model != r.model) return false;
  for (const auto& param : ref.params) {
    const auto& key = param.first;  // not a structured binding: clang-14 cannot capture those
    auto it = std::find_if(r.params.begin(), r.params.end(),
                           [&](const auto& p) { return p.first == key; });
    if (it == r.params.end() || it->second != param.second) return false;
  }
  return true;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

std::vector<Reference> load_references(const std::filesystem::path& file) {
  Value doc = read_toml_file(file);
  const Value* list = doc.find("reference");
  if (!list || !list->is_array())
    throw ConfigError(doc.loc().file.empty() ? SourceLoc{file.string(), 0} : doc.loc(), "reference",
                      "expected one or more [[reference]] tables");
  return read_perf_references(*list, "reference", true);
}

std::vector<GateVerdict> regression_verdicts(const std::vector<StoredRun>& runs,
                                             const std::vector<Reference>& references,
                                             ResultsStore* store, const CompareOptions& o,
                                             bool unmatched_last_passing) {
  std::vector<GateVerdict> out;
  Reference fallback;
  fallback.last_passing = true;
  for (const StoredRun& r : runs) {
    GateVerdict g;
    const Reference* ref = unmatched_last_passing ? &fallback : nullptr;
    for (const Reference& candidate : references)
      if (matches(candidate, r)) {
        ref = &candidate;
        break;
      }
    // The workload's comparison metric (step time, bus bandwidth, ...) and its direction.
    const std::optional<ResultColumn> metric = compared_metric(r.workload);
    const std::optional<double> mean =
        metric ? metric_mean_of(r, metric->metric) : std::optional<double>();
    if (!ref) {
      g.text = "no reference";
    } else if (!metric) {
      g.text = "not judged (the workload compares no metric)";
    } else if (r.verdict != to_string(RunStatus::kPassed) || !mean) {
      g.text = "not judged (run failed)";
    } else if (ref->step_time) {
      const double rel = (*mean - *ref->step_time) / *ref->step_time;
      const std::string vs = fmt("%+.1f%%", rel * 100) + " vs " + fmt("%.3f", *ref->step_time) +
                             " " + metric->unit + " ±" + fmt("%g", ref->tolerance * 100) + "%";
      // Worse beyond the tolerance: higher for times, lower for bandwidths.
      const double worse = metric->higher_is_better ? -rel : rel;
      g.regression = worse > ref->tolerance;
      g.text =
          g.regression ? "REGRESSION: " + vs : (worse < -ref->tolerance ? "faster: " : "ok: ") + vs;
    } else if (!store) {
      g.text = "no baseline (no results store)";
    } else {
      HistoryQuery q;
      q.model = r.model;
      q.system = r.system;
      q.workload = r.workload;
      q.passed_only = true;
      q.limit = 500;
      const std::string key = config_key(r, o);
      std::optional<StoredRun> base;
      for (StoredRun& s : store->query(q))
        if (s.campaign != r.campaign && config_key(s, o) == key) {
          base = std::move(s);
          break;
        }
      if (!base) {
        g.text = "no baseline (first passing run of this configuration on this system)";
      } else {
        const std::string& m = metric->metric;
        PerfVerdict v = metric_verdict(metric_samples_of(*base, m), metric_mean_of(*base, m),
                                       metric_samples_of(r, m), mean, metric->higher_is_better, o);
        const std::string vs =
            v.explain + " vs last passing run (" + base->campaign + ", " + base->end_time + ")";
        g.regression = v.change == Change::kSlower;
        g.text = g.regression ? "REGRESSION: " + vs : std::string(to_string(v.change)) + ": " + vs;
      }
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace bp
