// benchpilot compare A B: matching configurations of two results folders (or stored campaigns)
// side by side, with the noise-aware step-time verdict of store/compare.h.
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
#include "util/log.h"

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
  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const ComparedConfig& c : pairs) {
      auto opt = [](std::optional<double> v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
      out.push_back({{"configuration", c.label},
                     {"a_step_time", opt(c.a_step_time)},
                     {"b_step_time", opt(c.b_step_time)},
                     {"a_tflops_per_gpu", opt(c.a_tflops)},
                     {"b_tflops_per_gpu", opt(c.b_tflops)},
                     {"relative_change", c.verdict.relative},
                     {"p_value", c.verdict.p_value},
                     {"from_samples", c.verdict.from_samples},
                     {"verdict", to_string(c.verdict.change)}});
    }
    std::cout << nlohmann::json{{"a", o.a},
                                {"b", o.b},
                                {"min_effect", o.min_effect},
                                {"alpha", o.alpha},
                                {"configurations", out}}
                     .dump(2)
              << "\n";
  } else {
    std::vector<std::vector<std::string>> rows = {{"configuration", "A step (s)", "B step (s)",
                                                   "change", "A TFLOP/s/GPU", "B TFLOP/s/GPU",
                                                   "verdict"}};
    for (const ComparedConfig& c : pairs)
      rows.push_back({c.label, num(c.a_step_time, 3), num(c.b_step_time, 3), c.verdict.explain,
                      num(c.a_tflops, 1), num(c.b_tflops, 1), to_string(c.verdict.change)});
    std::vector<size_t> width(rows[0].size(), 0);
    for (const auto& row : rows)
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    for (size_t r = 0; r < rows.size(); ++r) {
      std::string line;
      for (size_t i = 0; i < rows[r].size(); ++i) {
        line += rows[r][i];
        if (i + 1 < rows[r].size()) line += std::string(width[i] - rows[r][i].size() + 2, ' ');
      }
      std::cout << line << "\n";
      if (r == 0) std::cout << std::string(line.size(), '-') << "\n";
    }
    std::cout << pairs.size() << " matching configuration(s): " << slower << " slower, " << faster
              << " faster, " << pairs.size() - slower - faster
              << " no change (Mann-Whitney U on step-time samples, p < " << o.alpha
              << ", and at least " << o.min_effect * 100 << "% apart)\n";
  }
  if (pairs.empty()) log::warn("no configuration ran (and passed) on both sides");
  if (!o.html.empty()) {
    if (!write_file_atomically(o.html, html::render_page(build_compare_page(o.a, o.b, pairs, co))))
      return 1;
    log::info("comparison page: " + o.html);
  }
  if (o.fail_on_regression && slower > 0) {
    for (const ComparedConfig& c : pairs)
      if (c.verdict.change == Change::kSlower)
        log::error("regression: " + c.label + ": step time " + c.verdict.explain);
    return 1;
  }
  return 0;
}

}  // namespace bp
