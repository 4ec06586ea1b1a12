#include "report/store_pages.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <set>

#include "core/run_label.h"
#include "core/run_status.h"
#include "report/svg_chart.h"

namespace bp {

namespace {

std::string fixed(std::optional<double> v, int decimals) {
  if (!v || !std::isfinite(*v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

html::Cell number(std::optional<double> v, int decimals) {
  return {fixed(v, decimals), "", "num", "", {}};
}

std::string run_label(const StoredRun& r) {
  return bp::run_label(r.case_id, r.iteration, r.step);
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

html::Section compare_overview_section(const std::string& a_name, const std::string& b_name,
                                       const std::vector<ComparedConfig>& configs) {
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
  return overview;
}

// A configuration's row: run counts, A and B of each column (the change after the compared
// metric), and the verdict; regressions carry the regression class.
std::vector<html::Cell> compare_row(const ComparedConfig& c) {
  html::Cell verdict{to_string(c.verdict.change), "", "", c.verdict.explain, {}};
  html::Cell change{c.verdict.explain, "", "num", "", {}};
  if (c.verdict.change == Change::kSlower) {
    verdict.text = std::string(kRegressionWord) + " (slower)";
    verdict.css = kRegressionClass;
    change.css = kRegressionClass;
  } else if (c.verdict.change == Change::kFaster) {
    verdict.css = "passed";
  }
  std::vector<html::Cell> row = {{c.label, "", "", c.key, {}},
                                 number(static_cast<double>(c.a.size()), 0),
                                 number(static_cast<double>(c.b.size()), 0)};
  for (size_t i = 0; i < c.columns.size(); ++i) {
    row.push_back(number(c.columns[i].a, c.columns[i].column.decimals));
    row.push_back(number(c.columns[i].b, c.columns[i].column.decimals));
    if (i == 0) row.push_back(change);
  }
  row.push_back(verdict);
  return row;
}

// One workload's table and bar chart: its result columns, the compared metric first.
void add_compare_workload(const std::vector<ComparedConfig>& configs, const std::string& workload,
                          bool first_workload, html::Section& side) {
  const ComparedConfig* first = nullptr;
  for (const ComparedConfig& c : configs)
    if (c.workload == workload) {
      first = &c;
      break;
    }
  html::Table t;
  t.id = first_workload ? "compare-table" : "compare-table-" + workload;
  t.header = {"configuration", "A runs", "B runs"};
  const std::vector<ComparedColumn> none;
  const std::vector<ComparedColumn>& columns = first ? first->columns : none;
  for (size_t i = 0; i < columns.size(); ++i) {
    t.header.push_back("A " + columns[i].column.header);
    t.header.push_back("B " + columns[i].column.header);
    if (i == 0) t.header.push_back("change");
  }
  t.header.push_back("verdict");
  t.empty_text = "no configuration ran (and passed) on both sides";
  svg::BarChart bars;
  if (!columns.empty()) {
    bars.id = "compare-" + columns[0].column.metric + "-chart";
    bars.title = "Mean " + columns[0].column.header + ", A and B";
    bars.unit = columns[0].column.unit;
  }
  for (const ComparedConfig& c : configs) {
    if (c.workload != workload) continue;
    t.rows.push_back(compare_row(c));
    if (!c.columns.empty() && c.columns[0].a && c.columns[0].b) {
      bars.bars.push_back({c.label + "  A", *c.columns[0].a, ""});
      bars.bars.push_back({c.label + "  B", *c.columns[0].b, t.rows.back().back().text});
    }
  }
  side.blocks.push_back(std::move(t));
  if (!bars.bars.empty()) side.blocks.push_back(std::move(bars));
}

// Labels a stored run's configuration as `compare` matches it, by the parameters that vary
// among the runs shown (and the model and system when more than one appears).
class ConfigLabeler {
 public:
  explicit ConfigLabeler(const std::vector<StoredRun>& runs) {
    for (const StoredRun& r : runs)
      for (const auto& [k, v] : r.params) values_[k].insert(v);
    for (const StoredRun& r : runs) {
      models_.insert(r.model);
      systems_.insert(r.system);
    }
  }
  std::string operator()(const StoredRun& r) const {
    std::string s;
    if (models_.size() > 1) s += r.model.empty() ? "-" : r.model;
    if (systems_.size() > 1) s += (s.empty() ? "" : " ") + (r.system.empty() ? "-" : r.system);
    for (const auto& [k, v] : r.params)
      if (values_.at(k).size() > 1 && identifies_configuration(r, k, options_))
        s += (s.empty() ? "" : " ") + k.substr(k.find('.') + 1) + "=" + v;
    if (s.empty()) s = r.model.empty() ? r.case_id : r.model;
    return s;
  }

 private:
  const CompareOptions options_;
  std::map<std::string, std::set<std::string>> values_;
  std::set<std::string> models_, systems_;
};

std::optional<double> run_start_seconds(const StoredRun& r) {
  return epoch_seconds(r.start_time.empty() ? r.end_time : r.start_time);
}

// The x axis of the history charts: time since the earliest run, in a unit that suits the span.
struct HistoryTimeAxis {
  std::optional<double> origin;
  std::string origin_text;
  double unit = 60.0;
  const char* unit_name = "minutes";
};

HistoryTimeAxis history_time_axis(const std::vector<StoredRun>& runs) {
  HistoryTimeAxis axis;
  for (const StoredRun& r : runs) {
    const std::string& when = r.start_time.empty() ? r.end_time : r.start_time;
    auto t = epoch_seconds(when);
    if (t && (!axis.origin || *t < *axis.origin)) {
      axis.origin = t;
      axis.origin_text = when;
    }
  }
  double span = 0;
  for (const StoredRun& r : runs)
    if (auto t = run_start_seconds(r)) span = std::max(span, *t - *axis.origin);
  axis.unit = span < 2 * 3600.0 ? 60.0 : span < 2 * 86400.0 ? 3600.0 : 86400.0;
  axis.unit_name = axis.unit == 60.0 ? "minutes" : axis.unit == 3600.0 ? "hours" : "days";
  return axis;
}

struct MetricChart {
  ResultColumn metric;
  std::vector<std::string> keys;
  std::vector<std::vector<std::pair<double, double>>> points;
  std::vector<std::string> names;
};

// Each workload's comparison metric per configuration over start time (passing runs), oldest
// first: one chart per metric.
std::vector<MetricChart> metric_charts(const std::vector<StoredRun>& runs,
                                       const HistoryTimeAxis& axis, const ConfigLabeler& label) {
  const CompareOptions co;
  std::vector<MetricChart> charts;
  for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
    const StoredRun& r = *it;
    const std::optional<ResultColumn> metric = compared_metric(r.workload);
    if (!metric) continue;
    auto value = metric_mean_of(r, metric->metric);
    auto t = run_start_seconds(r);
    if (r.verdict != to_string(RunStatus::kPassed) || !value || !t) continue;
    auto chart = std::find_if(charts.begin(), charts.end(), [&](const MetricChart& c) {
      return c.metric.metric == metric->metric;
    });
    if (chart == charts.end())
      chart = charts.insert(charts.end(), MetricChart{*metric, {}, {}, {}});
    std::string key = config_key(r, co);
    size_t i = std::find(chart->keys.begin(), chart->keys.end(), key) - chart->keys.begin();
    if (i == chart->keys.size()) {
      chart->keys.push_back(key);
      chart->names.push_back(label(r));
      chart->points.emplace_back();
    }
    chart->points[i].emplace_back((*t - *axis.origin) / axis.unit, *value);
  }
  return charts;
}

html::Section over_time_section(const std::vector<StoredRun>& runs, const ConfigLabeler& label) {
  const HistoryTimeAxis axis = history_time_axis(runs);
  std::vector<MetricChart> charts = metric_charts(runs, axis, label);
  html::Section over_time{"over-time", "Over time", {}};
  if (charts.empty())
    over_time.blocks.push_back(
        html::Paragraph{"no passing run with a compared metric and a start time to chart"});
  for (MetricChart& mc : charts) {
    auto& points = mc.points;
    const auto& names = mc.names;
    svg::LineChart chart;
    chart.id = "history-" + mc.metric.metric;
    chart.title = mc.metric.header + " per configuration over start time";
    chart.x_label = std::string(axis.unit_name) + " since " + axis.origin_text;
    chart.y_label = mc.metric.header;
    for (size_t i = 0; i < mc.keys.size(); ++i) {
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
  return over_time;
}

html::Section history_runs_section(const std::vector<StoredRun>& runs, const ConfigLabeler& label) {
  html::Section list{"runs", "Runs (newest first)", {}};
  html::Table t;
  t.id = "history-table";
  t.header = {"start", "end", "system", "model", "configuration", "run", "campaign", "status"};
  const std::vector<ResultColumn> columns = result_columns_of(runs);
  for (const ResultColumn& c : columns) t.header.push_back(c.header);
  t.empty_text = "no run matches";
  for (const StoredRun& r : runs) {
    auto dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
    t.rows.push_back({{dash(r.start_time), "", "", "", {}},
                      {dash(r.end_time), "", "", "", {}},
                      {dash(r.system), "", "", "", {}},
                      {dash(r.model), "", "", "", {}},
                      {label(r), "", "", "", {}},
                      {run_label(r), "", "", r.run_dir, {}},
                      {r.campaign, "", "", r.results_dir, {}},
                      {r.verdict,
                       "",
                       r.verdict == to_string(RunStatus::kPassed) ? "passed" : "failed",
                       r.message,
                       {}}});
    for (const ResultColumn& c : columns)
      t.rows.back().push_back(number(metric_mean_of(r, c.metric), c.decimals));
  }
  list.blocks.push_back(std::move(t));
  return list;
}

}  // namespace

html::Page build_compare_page(const std::string& a_name, const std::string& b_name,
                              const std::vector<ComparedConfig>& configs, const CompareOptions& o) {
  html::Page page;
  page.title = "compare " + a_name + " vs " + b_name;
  char rule[160];
  std::snprintf(rule, sizeof rule,
                "Mann-Whitney U on each workload's comparison metric, p < %g, and at least %g%% "
                "apart",
                o.alpha, o.min_effect * 100);
  page.subtitle = std::string("benchpilot compare - A (baseline) vs B (candidate); ") + rule;
  page.sections.push_back(compare_overview_section(a_name, b_name, configs));

  html::Section side{"configurations", "Configurations side by side", {}};
  std::vector<std::string> workloads;
  for (const ComparedConfig& c : configs)
    if (std::find(workloads.begin(), workloads.end(), c.workload) == workloads.end())
      workloads.push_back(c.workload);
  if (workloads.empty()) workloads.emplace_back();
  for (const std::string& workload : workloads)
    add_compare_workload(configs, workload, workload == workloads.front(), side);
  page.sections.push_back(std::move(side));
  return page;
}

html::Page build_history_page(const std::vector<StoredRun>& runs, const std::string& filter) {
  html::Page page;
  page.title = "history";
  page.subtitle = "benchpilot history - " + std::to_string(runs.size()) + " run(s)" +
                  (filter.empty() ? "" : " - " + filter);
  const ConfigLabeler label(runs);
  page.sections.push_back(over_time_section(runs, label));
  page.sections.push_back(history_runs_section(runs, label));
  return page;
}

}  // namespace bp
