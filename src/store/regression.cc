#include "store/regression.h"

#include <algorithm>
#include <cstdio>

#include "config/toml_reader.h"

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
  std::vector<Reference> out;
  const Value* list = doc.find("reference");
  if (!list || !list->is_array())
    throw ConfigError(doc.loc().file.empty() ? SourceLoc{file.string(), 0} : doc.loc(), "reference",
                      "expected one or more [[reference]] tables");
  for (size_t i = 0; i < list->size(); ++i) {
    const Value& t = list->items()[i];
    const std::string where = "reference[" + std::to_string(i) + "]";
    if (!t.is_table()) throw ConfigError(t.loc(), where, "expected a table");
    Reference ref;
    ref.loc = t.loc();
    for (size_t k = 0; k < t.size(); ++k) {
      const std::string& key = t.keys()[k];
      const Value& v = t.items()[k];
      const std::string path = where + "." + key;
      if (key == "case" || key == "model") {
        if (!v.is_string()) throw ConfigError(v.loc(), path, "expected a string");
        (key == "case" ? ref.case_id : ref.model) = v.as_string();
      } else if (key == "params") {
        if (!v.is_table()) throw ConfigError(v.loc(), path, "expected a table of values");
        for (size_t p = 0; p < v.size(); ++p) {
          std::string name = v.keys()[p];
          if (name.find('.') == std::string::npos) name = "cmd_args." + name;
          const Value& pv = v.items()[p];
          ref.params.emplace_back(name, pv.is_string() ? pv.as_string() : pv.to_toml_inline());
        }
      } else if (key == "value" || key == "step_time") {  // step_time: the older name
        if (!v.is_number() || v.as_double() <= 0)
          throw ConfigError(v.loc(), path,
                            "expected a positive number (the comparison metric's expected mean)");
        ref.step_time = v.as_double();
      } else if (key == "tolerance") {
        if (!v.is_number() || v.as_double() < 0 || v.as_double() >= 1)
          throw ConfigError(v.loc(), path, "expected a fraction in [0, 1), e.g. 0.05 for 5%");
        ref.tolerance = v.as_double();
      } else if (key == "baseline") {
        if (!v.is_string() || v.as_string() != "last_passing")
          throw ConfigError(v.loc(), path, "expected \"last_passing\"");
        ref.last_passing = true;
      } else {
        throw ConfigError(v.loc(), path,
                          "unknown key; expected case, model, params, value, tolerance or "
                          "baseline");
      }
    }
    if (!ref.step_time && !ref.last_passing)
      throw ConfigError(t.loc(), where,
                        "expected value = <expected mean> or baseline = \"last_passing\"");
    out.push_back(std::move(ref));
  }
  return out;
}

std::vector<GateVerdict> regression_verdicts(const std::vector<StoredRun>& runs,
                                             const std::vector<Reference>& references,
                                             ResultsStore* store, const CompareOptions& o) {
  std::vector<GateVerdict> out;
  Reference fallback;
  fallback.last_passing = true;
  for (const StoredRun& r : runs) {
    GateVerdict g;
    const Reference* ref = references.empty() ? &fallback : nullptr;
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
    } else if (r.verdict != "PASSED" || !mean) {
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
