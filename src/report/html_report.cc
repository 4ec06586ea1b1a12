#include "report/html_report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <map>
#include <set>

#include "core/run_folder.h"
#include "core/run_status.h"
#include "core/workload.h"
#include "report/results_data.h"
#include "report/summary.h"
#include "util/files.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/time_format.h"

namespace bp {
namespace fs = std::filesystem;

namespace {

using html::Cell;
using html::Figure;
using html::Table;

Cell cell(std::string text, std::string css = "", std::string title = "") {
  Cell c;
  c.text = std::move(text);
  c.css = std::move(css);
  c.title = std::move(title);
  return c;
}

Cell link_cell(std::string text, std::string href) {
  Cell c = cell(std::move(text));
  c.href = std::move(href);
  return c;
}

// Runs charted per plain (not swept) case at most, so a long list of iterations stays readable.
constexpr size_t kMaxChartedPlainRuns = 4;

// A metric's header as its workload declares it (Workload::result_columns), else its name.
std::string metric_label(const std::string& name) {
  for (const ResultColumn& c : result_columns_of(workload_names()))
    if (c.metric == name) return c.header;
  return name;
}

std::string params_text(const RunRecord& r) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : r.params) parts.push_back(k + "=" + v.to_plain_string());
  return parts.empty() ? "-" : join(parts, " ");
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string status_css(RunStatus status) {
  if (status == RunStatus::kPassed) return "passed";
  if (status == RunStatus::kFailed) return "failed";
  return "skipped";
}

std::string rel(const fs::path& root, const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::relative(p, root, ec);
  return ec ? p.string() : r.generic_string();
}

Cell run_link(const fs::path& root, const RunRecord& r) {
  return link_cell(run_label(r), url_path(rel(root, r.run_dir)) + "/");
}

// Metric names over all runs, first-seen order; "default" only when nothing else is there (it
// repeats another metric).
std::vector<std::string> metric_columns(const std::vector<const RunRecord*>& records) {
  std::vector<std::string> names;
  for (const RunRecord* r : records)
    for (const auto& [k, v] : r->metrics)
      if (std::find(names.begin(), names.end(), k) == names.end()) names.push_back(k);
  if (names.size() > 1) std::erase(names, std::string("default"));
  return names;
}

Cell metric_cell(const RunRecord& r, const std::string& name) {
  auto it = r.metrics.find(name);
  if (it == r.metrics.end()) return cell("-", "num");
  return cell(svg::format_number(it->second), "num");
}

// Sweep case directories: <root>/<case>/<iteration>/ with a trajectory.csv.
struct SweepGroup {
  std::string case_id;
  int iteration = 0;
  fs::path dir;
  std::vector<const RunRecord*> runs;
};

std::vector<SweepGroup> sweep_groups(const fs::path& root,
                                     const std::vector<const RunRecord*>& runs) {
  std::vector<SweepGroup> out;
  for (const RunRecord* r : runs) {
    if (r->step <= 0) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const SweepGroup& g) {
      return g.case_id == r->case_id && g.iteration == r->iteration;
    });
    if (it == out.end()) {
      SweepGroup g;
      g.case_id = r->case_id;
      g.iteration = r->iteration;
      g.dir = r->run_dir.parent_path();
      if (g.dir.empty()) g.dir = root / r->case_id / std::to_string(r->iteration);
      out.push_back(std::move(g));
      it = out.end() - 1;
    }
    it->runs.push_back(r);
  }
  return out;
}

// Orders axis values numerically when they all are numbers, else by first appearance.
void sort_axis_values(std::vector<std::string>& values) {
  // strtod, not util/numbers.h: a value written "+2" or " 2" in the TOML still sorts as 2.
  auto number = [](const std::string& s) -> std::optional<double> {
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
    return v;
  };
  bool numeric = std::all_of(values.begin(), values.end(),
                             [&](const std::string& s) { return number(s).has_value(); });
  if (numeric)
    std::stable_sort(values.begin(), values.end(), [&](const std::string& a, const std::string& b) {
      return *number(a) < *number(b);
    });
}

std::string param_of(const std::vector<std::pair<std::string, std::string>>& params,
                     const std::string& name) {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

std::vector<std::pair<std::string, std::string>> params_as_text(const RunRecord& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : r.params) out.emplace_back(k, v.to_plain_string());
  return out;
}

// Heatmaps of the workloads' result columns over two swept axes (the workload's heatmap_axes()
// when both were swept, else the first two); cells hold the best value over the other axes.
std::vector<svg::Heatmap> heatmaps(const SweepGroup& g, const std::vector<PrunedPoint>& pruned,
                                   const std::string& id_prefix) {
  std::vector<std::string> axes;
  for (const RunRecord* r : g.runs)
    for (const auto& [k, v] : r->params)
      if (std::find(axes.begin(), axes.end(), k) == axes.end()) axes.push_back(k);
  if (axes.empty()) return {};
  std::string x = axes[0], y = axes.size() > 1 ? axes[1] : "";
  if (const Workload* w = g.runs.empty() ? nullptr : find_workload(g.runs.front()->workload)) {
    const std::vector<std::string> preferred = w->info().heatmap_axes;
    if (preferred.size() >= 2 && std::count(axes.begin(), axes.end(), preferred[0]) &&
        std::count(axes.begin(), axes.end(), preferred[1])) {
      x = preferred[0];
      y = preferred[1];
    }
  }
  std::vector<std::string> others;
  for (const std::string& a : axes)
    if (a != x && a != y) others.push_back(a);

  std::vector<std::string> columns, rows;
  auto add = [](std::vector<std::string>& list, const std::string& v) {
    if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
  };
  for (const RunRecord* r : g.runs) {
    auto p = params_as_text(*r);
    add(columns, param_of(p, x));
    add(rows, y.empty() ? "-" : param_of(p, y));
  }
  for (const PrunedPoint& p : pruned) {
    add(columns, param_of(p.params, x));
    if (!y.empty()) add(rows, param_of(p.params, y));
  }
  sort_axis_values(columns);
  sort_axis_values(rows);

  // A heatmap per result column of the runs' workloads.
  std::vector<std::string> workloads;
  for (const RunRecord* r : g.runs) workloads.push_back(r->workload);
  std::vector<svg::Heatmap> maps;
  for (const ResultColumn& m : result_columns_of(workloads)) {
    svg::Heatmap map;
    map.id = id_prefix + "-" + m.metric;
    map.x_label = x;
    map.y_label = y.empty() ? "-" : y;
    map.value_label = m.header;
    map.higher_is_better = m.higher_is_better;
    map.columns = columns;
    map.rows = rows;
    map.cells.assign(rows.size(), std::vector<std::optional<double>>(columns.size()));
    bool any = false;
    for (const RunRecord* r : g.runs) {
      auto it = r->metrics.find(m.metric);
      if (!r->passed || it == r->metrics.end() || !std::isfinite(it->second)) continue;
      auto p = params_as_text(*r);
      size_t c = std::find(columns.begin(), columns.end(), param_of(p, x)) - columns.begin();
      size_t w =
          std::find(rows.begin(), rows.end(), y.empty() ? "-" : param_of(p, y)) - rows.begin();
      auto& cell = map.cells[w][c];
      if (!cell || (m.higher_is_better ? it->second > *cell : it->second < *cell))
        cell = it->second;
      any = true;
    }
    if (!any) continue;
    map.title = m.header + " by " + x + (y.empty() ? "" : " x " + y) +
                (others.empty() ? "" : " (best over " + join(others, ", ") + ")");
    maps.push_back(std::move(map));
  }
  return maps;
}

// One line chart per series kind, a line per run.
std::vector<svg::LineChart> step_charts(
    const std::vector<std::pair<std::string, const RunRecord*>>& runs,
    const std::string& id_prefix) {
  std::vector<svg::LineChart> charts;
  std::vector<std::string> keys;
  for (const auto& [name, r] : runs) {
    const Workload* w = workload_of_run_folder(r->run_dir);
    if (!w) continue;
    std::vector<ReportSeries> series;
    try {
      if (RunRead read = w->read(r->run_dir); read.series) series = read.series();
    } catch (const std::exception& e) {
      log::warn("report series of " + r->run_dir.string() + ": " + e.what());
      continue;
    }
    for (ReportSeries& s : series) {
      auto k = std::find(keys.begin(), keys.end(), s.chart);
      if (k == keys.end()) {
        keys.push_back(s.chart);
        svg::LineChart c;
        std::string key;
        for (char ch : s.chart) key += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '-';
        c.id = id_prefix + "-" + key;
        c.title = s.title;
        c.x_label = s.x_label;
        c.y_label = s.y_label;
        c.log_x = s.log_x;
        charts.push_back(std::move(c));
        k = keys.end() - 1;
      }
      charts[k - keys.begin()].series.push_back({name, std::move(s.x), std::move(s.y)});
    }
  }
  return charts;
}

// Planned and avoided GPU-hours summed over the cases that have a plan.
struct PlanTotals {
  double planned = 0, avoided = 0;
  bool any_planned = false, any_avoided = false;
};

std::vector<const RunRecord*> runs_in_order(const std::vector<RunRecord>& records) {
  std::vector<const RunRecord*> runs;
  for (const RunRecord& r : records) runs.push_back(&r);
  std::stable_sort(runs.begin(), runs.end(), [](const RunRecord* a, const RunRecord* b) {
    return std::tie(a->case_id, a->iteration, a->step) <
           std::tie(b->case_id, b->iteration, b->step);
  });
  return runs;
}

// Per-run elapsed hours x GPUs, shared by the overview and the GPU-hours section.
struct GpuHoursSpent {
  std::map<std::string, double> by_case;
  size_t runs_without_time = 0;
  double total() const {
    double sum = 0;
    for (const auto& [k, v] : by_case) sum += v;
    return sum;
  }
};

GpuHoursSpent gpu_hours_spent(const std::vector<const RunRecord*>& runs, const ReportContext& ctx) {
  GpuHoursSpent spent;
  for (const RunRecord* r : runs) {
    if (run_status(*r) == RunStatus::kDryRun) continue;
    auto secs = job_elapsed_seconds(*r);
    std::optional<int64_t> gpus = run_gpus(r->run_dir, ctx.gpus_per_node);
    if (!gpus)
      for (const Plan& p : ctx.plans)
        if (p.case_id == r->case_id && p.gpus_per_job_min == p.gpus_per_job_max)
          gpus = p.gpus_per_job_min;
    if (!secs || !gpus) {
      ++spent.runs_without_time;
      continue;
    }
    spent.by_case[r->case_id] += *secs / 3600.0 * static_cast<double>(*gpus);
  }
  return spent;
}

html::Section overview_section(const std::vector<const RunRecord*>& runs, uint64_t pruned_total,
                               double spent_total) {
  size_t passed = 0, failed = 0, dry = 0;
  for (const RunRecord* r : runs) {
    const RunStatus s = run_status(*r);
    passed += s == RunStatus::kPassed;
    failed += counts_as_failed(s);  // counted as summary.json counts them
    dry += s == RunStatus::kDryRun;
  }
  html::Section s{"overview", "Overview", {}};
  std::vector<Figure> figs = {{"runs", std::to_string(runs.size()), ""},
                              {"passed", std::to_string(passed), "passed"},
                              {"failed", std::to_string(failed), failed ? "failed" : ""}};
  if (dry) figs.push_back({"dry-run (not submitted)", std::to_string(dry), "skipped"});
  figs.push_back({"pruned points (not run)", std::to_string(pruned_total), "skipped"});
  figs.push_back({"GPU-hours spent", fixed(spent_total, 2), ""});
  s.blocks.push_back(std::move(figs));
  s.blocks.push_back(html::Paragraph{
      "Each run links to its folder; logs and reports are in the Runs table below. Sweep "
      "points the constraints rejected were never submitted: they are listed by rule."});
  return s;
}

// A sweep's trajectory rows by reward, best first, with the best and worst passing runs.
struct Leaderboard {
  Table table;
  const RunRecord* best = nullptr;
  const RunRecord* worst = nullptr;
};

Leaderboard leaderboard(const fs::path& root, const SweepGroup& g, const std::string& suffix) {
  std::vector<TrajectoryRow> traj = read_trajectory(g.dir);
  std::map<int, const RunRecord*> by_step;
  for (const RunRecord* r : g.runs) by_step[r->step] = r;
  std::vector<const TrajectoryRow*> ranked;
  for (const TrajectoryRow& t : traj) ranked.push_back(&t);
  std::stable_sort(
      ranked.begin(), ranked.end(),
      [](const TrajectoryRow* a, const TrajectoryRow* b) { return a->reward > b->reward; });
  std::vector<std::string> mcols = metric_columns(g.runs);
  Leaderboard board;
  board.table.id = "leaderboard-" + suffix;
  board.table.header = {"rank", "run", "parameters", "reward"};
  for (const std::string& m : mcols) board.table.header.push_back(metric_label(m));
  board.table.header.push_back("status");
  board.table.empty_text = "no trajectory.csv rows (nothing finished)";
  std::set<int> seen;
  for (const TrajectoryRow* t : ranked) {
    auto it = by_step.find(t->step);
    if (it == by_step.end() || !seen.insert(t->step).second) continue;
    const RunRecord& r = *it->second;
    if (r.passed) {
      if (!board.best) board.best = &r;
      board.worst = &r;
    }
    std::vector<Cell> row = {cell(std::to_string(board.table.rows.size() + 1), "num"),
                             run_link(root, r), cell(params_text(r)),
                             cell(svg::format_number(t->reward), "num")};
    for (const std::string& m : mcols) row.push_back(metric_cell(r, m));
    const RunStatus st = run_status(r);
    row.push_back(cell(std::string(to_string(st)), status_css(st), failure_text(r)));
    if (&r == board.best) row[0].css = "best";
    board.table.rows.push_back(std::move(row));
  }
  return board;
}

Table pruned_rules_table(const SweepGroup& g, const std::vector<PrunedPoint>& pruned,
                         const ReportContext& ctx, const std::string& suffix) {
  Table pt;
  pt.id = "pruned-" + suffix;
  pt.header = {"rule", "name", "points", "examples"};
  pt.empty_text = "No point was pruned.";
  for (const PrunedRule& rule : group_pruned(pruned)) {
    std::string name;
    for (const Plan& p : ctx.plans)
      if (p.case_id == g.case_id)
        for (const RuleTally& t : p.pruned_by_rule)
          if (t.id == rule.id) name = t.name;
    pt.rows.push_back({cell(rule.id), cell(name), cell(std::to_string(rule.count), "num"),
                       cell(join(rule.examples, "\n"))});
  }
  return pt;
}

// One section per sweep (case and iteration); `number` is its 1-based position on the page.
html::Section sweep_section(const fs::path& root, const SweepGroup& g, size_t number,
                            const std::vector<PrunedPoint>& pruned, const ReportContext& ctx) {
  const std::string suffix = std::to_string(number);
  html::Section s{"sweep-" + suffix,
                  "Sweep " + g.case_id + " (iteration " + std::to_string(g.iteration) + ")",
                  {}};
  size_t g_passed = 0, g_failed = 0;
  for (const RunRecord* r : g.runs) {
    g_passed += run_status(*r) == RunStatus::kPassed;
    g_failed += counts_as_failed(run_status(*r));
  }
  s.blocks.push_back(
      std::vector<Figure>{{"points run", std::to_string(g.runs.size()), ""},
                          {"passed", std::to_string(g_passed), "passed"},
                          {"failed", std::to_string(g_failed), g_failed ? "failed" : ""},
                          {"pruned", std::to_string(pruned.size()), "skipped"}});

  Leaderboard board = leaderboard(root, g, suffix);
  s.blocks.push_back(html::Paragraph{"Leaderboard by reward (the sweep agent's objective)."});
  s.blocks.push_back(std::move(board.table));

  for (svg::Heatmap& m : heatmaps(g, pruned, "heatmap-" + suffix)) s.blocks.push_back(std::move(m));

  s.blocks.push_back(
      html::Paragraph{"Pruned points by rule (pruned.csv; a point may break "
                      "several rules):"});
  s.blocks.push_back(pruned_rules_table(g, pruned, ctx, suffix));

  // Per-step charts of the best and the worst passing runs.
  const RunRecord* best = board.best;
  const RunRecord* worst = board.worst;
  std::vector<std::pair<std::string, const RunRecord*>> charted;
  if (best)
    charted.emplace_back("best: " + run_label(*best) + " (" + params_text(*best) + ")", best);
  if (worst && worst != best)
    charted.emplace_back("worst: " + run_label(*worst) + " (" + params_text(*worst) + ")", worst);
  for (svg::LineChart& c : step_charts(charted, "steps-" + suffix))
    s.blocks.push_back(std::move(c));
  return s;
}

// Per-step charts of passing runs that are not sweep points; none when no run qualifies.
std::optional<html::Section> plain_run_charts_section(const std::vector<const RunRecord*>& runs) {
  std::map<std::string, size_t> per_case;
  std::vector<std::pair<std::string, const RunRecord*>> charted;
  for (const RunRecord* r : runs)
    if (r->step == 0 && r->passed && per_case[r->case_id]++ < kMaxChartedPlainRuns)
      charted.emplace_back(run_label(*r), r);
  std::vector<svg::LineChart> charts = step_charts(charted, "steps-runs");
  if (charts.empty()) return std::nullopt;
  html::Section s{"per-run-charts", "Per-step metrics", {}};
  for (svg::LineChart& c : charts) s.blocks.push_back(std::move(c));
  return s;
}

Table gpu_hours_table(const std::vector<const RunRecord*>& runs, const ReportContext& ctx,
                      const GpuHoursSpent& spent, PlanTotals& totals) {
  Table t;
  t.id = "gpu-hours";
  t.header = {"case", "planned (time limit x GPUs)", "spent (elapsed x GPUs)",
              "not spent on pruned points (upper bound)"};
  std::set<std::string> cases;
  for (const RunRecord* r : runs) cases.insert(r->case_id);
  for (const Plan& p : ctx.plans) cases.insert(p.case_id);
  for (const std::string& c : cases) {
    const Plan* plan = nullptr;
    for (const Plan& p : ctx.plans)
      if (p.case_id == c) plan = &p;
    std::string planned = "-", avoided = "-";
    if (plan && plan->gpu_hours) {
      planned = (plan->gpu_hours_estimated ? "~" : "") + fixed(*plan->gpu_hours, 2);
      totals.planned += *plan->gpu_hours;
      totals.any_planned = true;
      auto hours = plan->time_limit ? time_limit_hours(*plan->time_limit) : std::nullopt;
      if (hours && plan->pruned > 0) {
        double a = static_cast<double>(plan->pruned) * static_cast<double>(plan->gpus_per_job_max) *
                   *hours * plan->iterations;
        avoided = fixed(a, 2);
        totals.avoided += a;
        totals.any_avoided = true;
      }
    }
    auto sp = spent.by_case.find(c);
    t.rows.push_back({cell(c), cell(planned, "num"),
                      cell(sp == spent.by_case.end() ? "-" : fixed(sp->second, 2), "num"),
                      cell(avoided, "num")});
  }
  return t;
}

// GPU-hours planned vs spent.
html::Section gpu_hours_section(const std::vector<const RunRecord*>& runs, const ReportContext& ctx,
                                const GpuHoursSpent& spent) {
  html::Section s{"gpu-hours", "GPU-hours", {}};
  PlanTotals totals;
  s.blocks.push_back(gpu_hours_table(runs, ctx, spent, totals));
  svg::BarChart bars;
  bars.id = "gpu-hours-chart";
  bars.title = "GPU-hours: planned vs spent";
  bars.unit = "GPU-h";
  if (totals.any_planned) bars.bars.push_back({"planned", totals.planned, "time limits"});
  bars.bars.push_back({"spent", spent.total(), ""});
  if (totals.any_avoided) bars.bars.push_back({"saved by pruning", totals.avoided, "at most"});
  s.blocks.push_back(std::move(bars));
  if (spent.runs_without_time)
    s.blocks.push_back(html::Paragraph{std::to_string(spent.runs_without_time) +
                                       " run(s) have no elapsed time or GPU count and are not "
                                       "counted as spent."});
  return s;
}

// Every run, in case, iteration and step order.
html::Section runs_section(const fs::path& root, const std::vector<RunRecord>& records,
                           const std::vector<const RunRecord*>& runs) {
  html::Section s{"runs", "Runs", {}};
  std::vector<std::string> mcols = metric_columns(runs);
  Table t;
  t.id = "runs-table";
  t.header = {"run", "parameters", "status", "job state", "job"};
  for (const std::string& m : mcols) t.header.push_back(metric_label(m));
  const bool predicted = any_prediction(records);  // else the columns of older folders
  if (predicted)
    for (std::string& h : prediction_headers()) t.header.push_back(std::move(h));
  t.header.push_back("reason");
  t.header.push_back("files");
  t.empty_text = "No run was recorded.";
  std::set<const RunRecord*> best;
  for (const auto& [case_id, index] : best_per_case(records)) best.insert(&records[index]);
  for (const RunRecord* r : runs) {
    const RunStatus st = run_status(*r);
    Cell link = run_link(root, *r);
    if (best.count(r)) {
      link.css = "best";
      link.title = "best passing run of its case";
    }
    std::vector<Cell> row = {link, cell(params_text(*r)),
                             cell(std::string(to_string(st)), status_css(st)), cell(r->state),
                             cell(r->job_id.empty() ? "-" : r->job_id)};
    for (const std::string& m : mcols) row.push_back(metric_cell(*r, m));
    if (predicted)
      for (std::string& text : prediction_texts(*r)) row.push_back(cell(std::move(text), "num"));
    row.push_back(cell(failure_text(*r)));
    Cell files;
    for (const fs::path& f : run_files(r->run_dir))
      files.links.emplace_back(f.filename().string(), url_path(rel(root, f)));
    if (files.links.empty()) files.text = "-";
    row.push_back(std::move(files));
    t.rows.push_back(std::move(row));
  }
  s.blocks.push_back(std::move(t));
  if (predicted)
    s.blocks.push_back(html::Paragraph{
        "Predicted: the estimate frozen when the run was submitted (estimate.toml; the step time "
        "as calibrated then). Step vs predicted: measured / predicted - 1. Max alloc and max "
        "reserved: the peaks over ranks of the allocator figures the log prints (GiB = 2^30 "
        "bytes)."});
  return s;
}

}  // namespace

html::Page build_results_page(const fs::path& root, const std::vector<RunRecord>& records,
                              const ReportContext& ctx) {
  html::Page page;
  page.title = ctx.scenario_name.empty() ? root.filename().string() : ctx.scenario_name;
  page.subtitle = "benchpilot results " + root.string() + " - written " +
                  format_time(std::time(nullptr), "%Y-%m-%d %H:%M:%S");
  std::vector<const RunRecord*> runs = runs_in_order(records);
  std::vector<SweepGroup> sweeps = sweep_groups(root, runs);
  GpuHoursSpent spent = gpu_hours_spent(runs, ctx);

  uint64_t pruned_total = 0;
  std::vector<std::vector<PrunedPoint>> pruned_by_sweep;
  for (const SweepGroup& g : sweeps) {
    pruned_by_sweep.push_back(read_pruned(g.dir));
    pruned_total += pruned_by_sweep.back().size();
  }
  page.sections.push_back(overview_section(runs, pruned_total, spent.total()));
  for (size_t gi = 0; gi < sweeps.size(); ++gi)
    page.sections.push_back(sweep_section(root, sweeps[gi], gi + 1, pruned_by_sweep[gi], ctx));
  if (std::optional<html::Section> charts = plain_run_charts_section(runs))
    page.sections.push_back(std::move(*charts));
  page.sections.push_back(gpu_hours_section(runs, ctx, spent));
  page.sections.push_back(runs_section(root, records, runs));
  return page;
}

bool write_html_report(const fs::path& root, const std::vector<RunRecord>& records,
                       const ReportContext& ctx) {
  return write_file_atomic_or_warn(root / "report.html",
                                   html::render_page(build_results_page(root, records, ctx)));
}

}  // namespace bp
