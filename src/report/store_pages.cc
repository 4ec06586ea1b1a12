#include "report/store_pages.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <set>

#include "report/svg_chart.h"

namespace bp {

namespace {

std::string fixed(std::optional<double> v, int decimals) {
  if (!v || !std::isfinite(*v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

std::optional<double> metric_of(const StoredRun& r, const char* name) {
  auto it = r.metrics.find(name);
  if (it == r.metrics.end()) return std::nullopt;
  return it->second;
}

html::Cell number(std::optional<double> v, int decimals) {
  return {fixed(v, decimals), "", "num", "", {}};
}

std::string run_label(const StoredRun& r) {
  std::string s = r.case_id + "/" + std::to_string(r.iteration);
  if (r.step > 0) s += "/" + std::to_string(r.step);
  return s;
}

// Seconds since the epoch of an ISO 8601 time as Slurm writes it ("2026-11-24T19:46:14", UTC
// assumed: only differences are charted); nullopt for anything else.
std::optional<double> epoch_seconds(const std::string& iso) {
  std::tm tm{};
  char sep = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%d%c%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &sep,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 7 ||
      (sep != 'T' && sep != ' '))
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm));
}

}  // namespace

html::Page build_compare_page(const std::string& a_name, const std::string& b_name,
                              const std::vector<ComparedConfig>& configs, const CompareOptions& o) {
  html::Page page;
  page.title = "compare " + a_name + " vs " + b_name;
  char rule[160];
  std::snprintf(rule, sizeof rule,
                "Mann-Whitney U on step-time samples, p < %g, and at least %g%% apart", o.alpha,
                o.min_effect * 100);
  page.subtitle = std::string("benchpilot compare - A (baseline) vs B (candidate); ") + rule;

  size_t slower = 0, faster = 0;
  for (const ComparedConfig& c : configs) {
    slower += c.verdict.change == Change::kSlower;
    faster += c.verdict.change == Change::kFaster;
  }
  html::Section overview{"overview", "Overview", {}};
  overview.blocks.push_back(html::Paragraph{"A (baseline): " + a_name});
  overview.blocks.push_back(html::Paragraph{"B (candidate): " + b_name});
  overview.blocks.push_back(std::vector<html::Figure>{
      {"matching configurations", std::to_string(configs.size()), ""},
      {"regressions (slower)", std::to_string(slower), slower ? "failed" : "passed"},
      {"faster", std::to_string(faster), ""},
      {"no change", std::to_string(configs.size() - slower - faster), ""}});
  page.sections.push_back(std::move(overview));

  html::Section side{"configurations", "Configurations side by side", {}};
  html::Table t;
  t.id = "compare-table";
  t.header = {"configuration",   "A runs",          "B runs",
              "A step time (s)", "B step time (s)", "change",
              "A TFLOP/s/GPU",   "B TFLOP/s/GPU",   "verdict"};
  t.empty_text = "no configuration ran (and passed) on both sides";
  svg::BarChart bars;
  bars.id = "compare-step-time-chart";
  bars.title = "Mean step time, A and B";
  bars.unit = "s";
  for (const ComparedConfig& c : configs) {
    html::Cell verdict{to_string(c.verdict.change), "", "", c.verdict.explain, {}};
    html::Cell change{c.verdict.explain, "", "num", "", {}};
    if (c.verdict.change == Change::kSlower) {
      verdict.text = std::string(kRegressionWord) + " (slower)";
      verdict.css = kRegressionClass;
      change.css = kRegressionClass;
    } else if (c.verdict.change == Change::kFaster) {
      verdict.css = "passed";
    }
    t.rows.push_back({{c.label, "", "", c.key, {}},
                      number(static_cast<double>(c.a.size()), 0),
                      number(static_cast<double>(c.b.size()), 0),
                      number(c.a_step_time, 3),
                      number(c.b_step_time, 3),
                      change,
                      number(c.a_tflops, 1),
                      number(c.b_tflops, 1),
                      verdict});
    if (c.a_step_time && c.b_step_time) {
      bars.bars.push_back({c.label + "  A", *c.a_step_time, ""});
      bars.bars.push_back({c.label + "  B", *c.b_step_time, verdict.text});
    }
  }
  side.blocks.push_back(std::move(t));
  if (!bars.bars.empty()) side.blocks.push_back(std::move(bars));
  page.sections.push_back(std::move(side));
  return page;
}

html::Page build_history_page(const std::vector<StoredRun>& runs, const std::string& filter) {
  html::Page page;
  page.title = "history";
  page.subtitle = "benchpilot history - " + std::to_string(runs.size()) + " run(s)" +
                  (filter.empty() ? "" : " - " + filter);

  // Configurations as `compare` matches them, labelled by the parameters that vary.
  const CompareOptions co;
  std::map<std::string, std::set<std::string>> values;
  for (const StoredRun& r : runs)
    for (const auto& [k, v] : r.params) values[k].insert(v);
  std::set<std::string> models, systems;
  for (const StoredRun& r : runs) {
    models.insert(r.model);
    systems.insert(r.system);
  }
  auto config_label = [&](const StoredRun& r) {
    std::string s;
    if (models.size() > 1) s += r.model.empty() ? "-" : r.model;
    if (systems.size() > 1) s += (s.empty() ? "" : " ") + (r.system.empty() ? "-" : r.system);
    for (const auto& [k, v] : r.params)
      if (values[k].size() > 1 && std::find(co.ignored_params.begin(), co.ignored_params.end(),
                                            k) == co.ignored_params.end())
        s += (s.empty() ? "" : " ") + k.substr(k.find('.') + 1) + "=" + v;
    if (s.empty()) s = r.model.empty() ? r.case_id : r.model;
    return s;
  };

  // Step time per configuration over start time (passing runs), oldest first.
  std::optional<double> origin;
  std::string origin_text;
  for (const StoredRun& r : runs) {
    const std::string& when = r.start_time.empty() ? r.end_time : r.start_time;
    auto t = epoch_seconds(when);
    if (t && (!origin || *t < *origin)) {
      origin = t;
      origin_text = when;
    }
  }
  double span = 0;
  for (const StoredRun& r : runs)
    if (auto t = epoch_seconds(r.start_time.empty() ? r.end_time : r.start_time))
      span = std::max(span, *t - *origin);
  const double unit = span < 2 * 3600.0 ? 60.0 : span < 2 * 86400.0 ? 3600.0 : 86400.0;
  const char* unit_name = unit == 60.0 ? "minutes" : unit == 3600.0 ? "hours" : "days";

  std::vector<std::string> keys;
  std::vector<std::vector<std::pair<double, double>>> points;
  std::vector<std::string> names;
  for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
    const StoredRun& r = *it;
    auto step = metric_of(r, "step-time");
    auto t = epoch_seconds(r.start_time.empty() ? r.end_time : r.start_time);
    if (r.verdict != "PASSED" || !step || !t) continue;
    std::string key = config_key(r, co);
    size_t i = std::find(keys.begin(), keys.end(), key) - keys.begin();
    if (i == keys.size()) {
      keys.push_back(key);
      names.push_back(config_label(r));
      points.emplace_back();
    }
    points[i].emplace_back((*t - *origin) / unit, *step);
  }
  html::Section over_time{"over-time", "Step time over time", {}};
  if (keys.empty()) {
    over_time.blocks.push_back(
        html::Paragraph{"no passing run with a step time and a start time to chart"});
  } else {
    svg::LineChart chart;
    chart.id = "history-step-time";
    chart.title = "Step time per configuration over start time";
    chart.x_label = std::string(unit_name) + " since " + origin_text;
    chart.y_label = "step time (s)";
    for (size_t i = 0; i < keys.size(); ++i) {
      std::sort(points[i].begin(), points[i].end());
      svg::Series s{names[i], {}, {}};
      for (const auto& [x, y] : points[i]) {
        s.x.push_back(x);
        s.y.push_back(y);
      }
      chart.series.push_back(std::move(s));
    }
    over_time.blocks.push_back(std::move(chart));
  }
  page.sections.push_back(std::move(over_time));

  html::Section list{"runs", "Runs (newest first)", {}};
  html::Table t;
  t.id = "history-table";
  t.header = {"start", "end",      "system", "model",         "configuration",
              "run",   "campaign", "status", "step time (s)", "TFLOP/s/GPU"};
  t.empty_text = "no run matches";
  for (const StoredRun& r : runs) {
    auto dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
    t.rows.push_back({{dash(r.start_time), "", "", "", {}},
                      {dash(r.end_time), "", "", "", {}},
                      {dash(r.system), "", "", "", {}},
                      {dash(r.model), "", "", "", {}},
                      {config_label(r), "", "", "", {}},
                      {run_label(r), "", "", r.run_dir, {}},
                      {r.campaign, "", "", r.results_dir, {}},
                      {r.verdict, "", r.verdict == "PASSED" ? "passed" : "failed", r.message, {}},
                      number(metric_of(r, "step-time"), 3),
                      number(metric_of(r, "tflops-per-gpu"), 1)});
  }
  list.blocks.push_back(std::move(t));
  page.sections.push_back(std::move(list));
  return page;
}

}  // namespace bp
