// benchpilot compare A B: matching configurations of two results folders (or stored campaigns)
// side by side, with the noise-aware verdict of store/compare.h on each workload's comparison
// metric and the workload's result columns.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "report/results_data.h"
#include "report/store_pages.h"
#include "store/compare.h"
#include "store/indexer.h"
#include "store/store.h"
#include "util/error.h"
#include "util/files.h"
#include "util/log.h"
#include "util/text_table.h"

namespace bp {

namespace fs = std::filesystem;

namespace {

std::vector<StoredRun> load_side(const std::string& what, const StoreLocation& where) {
  if (fs::is_directory(what)) return runs_from_results_folder(what);
  HistoryQuery q;
  q.campaign = what;
  q.limit = 0;
  const fs::path store = resolve_store_path(where);
  if (!fs::exists(store))
    throw Error("'" + what +
                "' is not a results folder, and there is no results "
                "store at " +
                store.string() + " to look it up as a campaign");
  std::vector<StoredRun> runs = open_sqlite_store(store)->query(q);
  if (runs.empty())
    throw Error("'" + what + "' is neither a results folder nor a campaign in the results store");
  return runs;
}

std::string num(std::optional<double> v, int decimals) {
  if (!v) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

// JSON key of a column's mean on one side: a_<metric> with '-' written '_' (a_step_time).
std::string side_key(const char* side, const std::string& metric) {
  std::string key = std::string(side) + "_" + metric;
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

void print_compare_json(const CompareOptionsCli& o, const std::vector<ComparedConfig>& pairs) {
  nlohmann::json out = nlohmann::json::array();
  for (const ComparedConfig& c : pairs) {
    auto opt = [](std::optional<double> v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
    nlohmann::json row = {{"configuration", c.label},
                          {"workload", c.workload},
                          {"metric", c.columns.empty() ? "" : c.columns[0].column.metric}};
    for (const ComparedColumn& col : c.columns) {
      row[side_key("a", col.column.metric)] = opt(col.a);
      row[side_key("b", col.column.metric)] = opt(col.b);
    }
    row["relative_change"] = c.verdict.relative;
    row["p_value"] = c.verdict.p_value;
    row["from_samples"] = c.verdict.from_samples;
    row["verdict"] = to_string(c.verdict.change);
    out.push_back(std::move(row));
  }
  std::cout << nlohmann::json{{"a", o.a},
                              {"b", o.b},
                              {"min_effect", o.min_effect},
                              {"alpha", o.alpha},
                              {"configurations", out}}
                   .dump(2)
            << "\n";
}

// A workload's rows: a header from its first configuration's columns (the change after the
// compared metric), then one row per configuration.
std::vector<std::vector<std::string>> workload_rows(const std::vector<ComparedConfig>& pairs,
                                                    const std::string& workload) {
  std::vector<std::vector<std::string>> rows;
  for (const ComparedConfig& c : pairs) {
    if (c.workload != workload) continue;
    if (rows.empty()) {
      rows.push_back({"configuration"});
      for (size_t i = 0; i < c.columns.size(); ++i) {
        rows[0].push_back("A " + c.columns[i].column.header);
        rows[0].push_back("B " + c.columns[i].column.header);
        if (i == 0) rows[0].push_back("change");
      }
      rows[0].push_back("verdict");
    }
    std::vector<std::string> row = {c.label};
    for (size_t i = 0; i < c.columns.size(); ++i) {
      row.push_back(num(c.columns[i].a, c.columns[i].column.decimals));
      row.push_back(num(c.columns[i].b, c.columns[i].column.decimals));
      if (i == 0) row.push_back(c.verdict.explain);
    }
    row.push_back(to_string(c.verdict.change));
    rows.push_back(std::move(row));
  }
  return rows;
}

// One table per workload (its result columns, the compared metric first), then the tally.
void print_compare_tables(const CompareOptionsCli& o, const std::vector<ComparedConfig>& pairs,
                          int slower, int faster) {
  std::vector<std::string> workloads;
  for (const ComparedConfig& c : pairs)
    if (std::find(workloads.begin(), workloads.end(), c.workload) == workloads.end())
      workloads.push_back(c.workload);
  for (const std::string& workload : workloads) {
    if (workloads.size() > 1) std::cout << workload << "\n";
    std::cout << format_text_table(workload_rows(pairs, workload));
  }
  std::cout << pairs.size() << " matching configuration(s): " << slower << " slower, " << faster
            << " faster, " << pairs.size() - slower - faster
            << " no change (Mann-Whitney U on each workload's comparison metric, p < " << o.alpha
            << ", and at least " << o.min_effect * 100 << "% apart)\n";
}

}  // namespace

int cmd_compare(const CompareOptionsCli& o) {
  std::vector<StoredRun> a = load_side(o.a, o.where);
  std::vector<StoredRun> b = load_side(o.b, o.where);
  CompareOptions co;
  co.min_effect = o.min_effect;
  co.alpha = o.alpha;
  std::vector<ComparedConfig> pairs = compare_runs(a, b, co);
  int slower = 0, faster = 0;
  for (const ComparedConfig& c : pairs) {
    slower += c.verdict.change == Change::kSlower;
    faster += c.verdict.change == Change::kFaster;
  }
  if (o.json)
    print_compare_json(o, pairs);
  else
    print_compare_tables(o, pairs, slower, faster);
  if (pairs.empty()) log::warn("no configuration ran (and passed) on both sides");
  if (!o.html.empty()) {
    write_user_output(o.html, html::render_page(build_compare_page(o.a, o.b, pairs, co)));
    log::info("comparison page: " + o.html);
  }
  if (o.fail_on_regression && slower > 0) {
    for (const ComparedConfig& c : pairs)
      if (c.verdict.change == Change::kSlower)
        log::error("regression: " + c.label + ": " +
                   (c.columns.empty() ? std::string() : c.columns[0].column.header + " ") +
                   c.verdict.explain);
    return 1;
  }
  return 0;
}

}  // namespace bp
