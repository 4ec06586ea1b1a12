#include "store/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "core/run_status.h"
#include "util/mann_whitney.h"

namespace bp {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

std::string percent(double rel) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", rel * 100.0);
  return buf;
}

std::optional<double> mean_metric(const std::vector<const StoredRun*>& runs,
                                  const std::string& name) {
  double sum = 0;
  int n = 0;
  for (const StoredRun* r : runs)
    if (auto it = r->metrics.find(name); it != r->metrics.end()) {
      sum += it->second;
      ++n;
    }
  return n ? std::optional<double>(sum / n) : std::nullopt;
}

std::vector<double> pooled_samples(const std::vector<const StoredRun*>& runs,
                                   const std::string& name) {
  std::vector<double> out;
  for (const StoredRun* r : runs) {
    std::vector<double> s = metric_samples_of(*r, name);
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

}  // namespace

std::optional<ResultColumn> compared_metric(const std::string& workload) {
  const Workload* w = find_workload(workload);
  return w ? comparison_column(*w) : std::nullopt;
}

std::vector<ResultColumn> result_columns_of(const std::vector<StoredRun>& runs) {
  std::vector<std::string> workloads;
  for (const StoredRun& r : runs) workloads.push_back(r.workload);
  return result_columns_of(workloads);
}

std::vector<double> metric_samples_of(const StoredRun& r, const std::string& metric) {
  auto it = r.samples.find(metric);
  return it == r.samples.end() ? std::vector<double>() : it->second;
}

std::optional<double> metric_mean_of(const StoredRun& r, const std::string& metric) {
  auto it = r.metrics.find(metric);
  return it == r.metrics.end() ? std::nullopt : std::optional<double>(it->second);
}

const char* to_string(Change c) {
  switch (c) {
    case Change::kFaster:
      return "faster";
    case Change::kSlower:
      return "slower";
    case Change::kNoChange:
      return "no change";
    case Change::kUnknown:
      break;
  }
  return "unknown";
}

PerfVerdict metric_verdict(const std::vector<double>& base_samples, std::optional<double> base_mean,
                           const std::vector<double>& candidate_samples,
                           std::optional<double> candidate_mean, bool higher_is_better,
                           const CompareOptions& o) {
  PerfVerdict v;
  // A rise is worse for times and better for bandwidths.
  auto change_of = [higher_is_better](double relative) {
    return (relative > 0) != higher_is_better ? Change::kSlower : Change::kFaster;
  };
  // The rank test needs a few samples per side to reach p < 0.05 at all (3 vs 3: p >= 0.1).
  constexpr size_t kMinSamples = 4;
  if (base_samples.size() >= kMinSamples && candidate_samples.size() >= kMinSamples) {
    const double base = median(base_samples);
    if (base <= 0) {
      v.explain = "the base is not positive";
      return v;
    }
    v.relative = (median(candidate_samples) - base) / base;
    v.p_value = mann_whitney_u(base_samples, candidate_samples).p_value;
    v.from_samples = true;
    char p[32];
    std::snprintf(p, sizeof p, "%.2g", v.p_value);
    v.explain = percent(v.relative) + " (p=" + p + ")";
    const bool significant = v.p_value < o.alpha && std::abs(v.relative) >= o.min_effect;
    v.change = !significant ? Change::kNoChange : change_of(v.relative);
    return v;
  }
  if (!base_mean || !candidate_mean || *base_mean <= 0) {
    v.explain = "no value on one side";
    return v;
  }
  v.relative = (*candidate_mean - *base_mean) / *base_mean;
  v.explain = percent(v.relative) + " (means only: no samples)";
  v.change = std::abs(v.relative) < o.min_effect ? Change::kNoChange : change_of(v.relative);
  return v;
}

bool identifies_configuration(const StoredRun& r, const std::string& key, const CompareOptions& o) {
  if (std::find(o.ignored_params.begin(), o.ignored_params.end(), key) != o.ignored_params.end())
    return false;
  const Workload* w = find_workload(r.workload);
  if (!w) return true;
  if (!w->info().image_field.empty() && key == "cmd_args." + w->info().image_field) return false;
  for (const std::string& secret : w->info().secret_fields)
    if (key == "cmd_args." + secret) return false;
  return true;
}

std::string config_key(const StoredRun& r, const CompareOptions& o) {
  std::string key = r.workload + "|" + r.model + "|" + std::to_string(r.num_gpus);
  std::vector<std::pair<std::string, std::string>> params = r.params;
  std::sort(params.begin(), params.end());
  for (const auto& [k, v] : params)
    if (identifies_configuration(r, k, o)) key += "|" + k + "=" + v;
  return key;
}

std::vector<ComparedConfig> compare_runs(const std::vector<StoredRun>& a,
                                         const std::vector<StoredRun>& b, const CompareOptions& o) {
  std::map<std::string, ComparedConfig> by_key;
  for (const StoredRun& r : a)
    if (r.verdict == to_string(RunStatus::kPassed)) by_key[config_key(r, o)].a.push_back(&r);
  for (const StoredRun& r : b)
    if (r.verdict == to_string(RunStatus::kPassed)) by_key[config_key(r, o)].b.push_back(&r);
  // Label each configuration by the parameters that vary across all of them.
  std::map<std::string, std::set<std::string>> values;
  for (const auto& [key, c] : by_key)
    for (const auto* side : {&c.a, &c.b})
      for (const StoredRun* r : *side)
        for (const auto& [k, v] : r->params) values[k].insert(v);
  std::vector<ComparedConfig> out;
  for (auto& [key, c] : by_key) {
    if (c.a.empty() || c.b.empty()) continue;
    c.key = key;
    std::vector<std::string> parts;
    for (const auto& [k, v] : c.a.front()->params)
      if (values[k].size() > 1 && identifies_configuration(*c.a.front(), k, o))
        parts.push_back(k.substr(k.find('.') + 1) + "=" + v);
    for (const std::string& p : parts) c.label += (c.label.empty() ? "" : " ") + p;
    if (c.label.empty())
      c.label = c.a.front()->model.empty() ? c.a.front()->case_id : c.a.front()->model;
    c.workload = c.a.front()->workload;
    if (const Workload* w = find_workload(c.workload)) {
      const std::optional<ResultColumn> compared = comparison_column(*w);
      if (compared) c.columns.push_back({*compared, {}, {}});
      for (const ResultColumn& col : w->info().result_columns)
        if (!compared || col.metric != compared->metric) c.columns.push_back({col, {}, {}});
      for (ComparedColumn& col : c.columns) {
        col.a = mean_metric(c.a, col.column.metric);
        col.b = mean_metric(c.b, col.column.metric);
      }
      if (compared) {
        const std::string& m = compared->metric;
        c.verdict = metric_verdict(pooled_samples(c.a, m), c.columns[0].a, pooled_samples(c.b, m),
                                   c.columns[0].b, compared->higher_is_better, o);
      } else {
        c.verdict.explain = "the " + c.workload + " workload declares no comparison metric";
      }
    } else {
      c.verdict.explain = "unknown workload '" + c.workload + "'";
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace bp
