// benchpilot history: the runs in the results store, newest first, filtered by model, system,
// workload, campaign, parameters and time; as a table, JSON or CSV.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "cli/commands.h"
#include "config/python_repr.h"
#include "core/run_label.h"
#include "report/results_data.h"
#include "report/store_pages.h"
#include "store/compare.h"
#include "store/store.h"
#include "util/files.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/text_table.h"

namespace bp {

namespace {

std::string fixed(const std::map<std::string, double>& m, const std::string& name, int decimals) {
  auto it = m.find(name);
  if (it == m.end()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, it->second);
  return buf;
}

std::string label(const StoredRun& r) {
  return run_label(r.case_id, r.iteration, r.step);
}

// The store query of the options; nullopt (after logging why) for a --param that is not
// NAME=VALUE. A bare NAME means cmd_args.NAME.
std::optional<HistoryQuery> history_query(const HistoryOptions& o) {
  HistoryQuery q;
  q.model = o.model;
  q.system = o.system;
  q.workload = o.workload;
  q.campaign = o.campaign;
  q.since = o.since;
  q.until = o.until;
  q.passed_only = o.passed_only;
  q.limit = o.limit;
  for (const std::string& p : o.params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      log::error("--param: expected NAME=VALUE, got '" + p + "'");
      return std::nullopt;
    }
    std::string name = p.substr(0, eq);
    if (name.find('.') == std::string::npos) name = "cmd_args." + name;
    q.params.emplace_back(name, p.substr(eq + 1));
  }
  return q;
}

// The HTML page of --html, its subtitle naming the filters given.
void write_history_page(const HistoryOptions& o, const std::vector<StoredRun>& runs) {
  std::vector<std::string> filter;
  const std::vector<std::pair<std::string, std::string>> given = {
      {"model", o.model},       {"system", o.system}, {"workload", o.workload},
      {"campaign", o.campaign}, {"since", o.since},   {"until", o.until}};
  for (const auto& [name, value] : given)
    if (!value.empty()) filter.push_back(name + "=" + value);
  for (const std::string& p : o.params) filter.push_back(p);
  if (o.passed_only) filter.push_back("passed only");
  write_user_output(o.html, html::render_page(build_history_page(runs, join(filter, " "))));
  log::info("history page: " + o.html);
}

nlohmann::json optional_json(std::optional<double> v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

// What was predicted for the run at submission (raw step time, the factor applied then); null
// for a run without a prediction.
nlohmann::json prediction_json(const StoredRun& r) {
  if (!r.prediction) return nullptr;
  const StoredRun::Prediction& p = *r.prediction;
  return {{"estimator_version", p.estimator_version},
          {"step_time_s", optional_json(p.step_time_s)},
          {"step_time_factor", p.step_time_factor},
          {"memory_gib", optional_json(p.memory_gib)}};
}

void print_history_json(const std::vector<StoredRun>& runs) {
  nlohmann::json out = nlohmann::json::array();
  for (const StoredRun& r : runs) {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : r.params) params[k] = v;
    out.push_back({{"campaign", r.campaign},
                   {"results_dir", r.results_dir},
                   {"run_dir", r.run_dir},
                   {"scenario", r.scenario},
                   {"case", r.case_id},
                   {"iteration", r.iteration},
                   {"step", r.step},
                   {"workload", r.workload},
                   {"model", r.model},
                   {"system", r.system},
                   {"gpu_type", r.gpu_type},
                   {"num_gpus", r.num_gpus},
                   {"mbridge_commit", r.mbridge_commit},
                   {"container_image", r.container_image},
                   {"benchpilot_version", r.benchpilot_version},
                   {"start_time", r.start_time},
                   {"end_time", r.end_time},
                   {"job_id", r.job_id},
                   {"job_state", r.state},
                   {"status", r.verdict},
                   {"message", r.message},
                   {"parameters", params},
                   {"metrics", r.metrics},
                   {"samples", r.samples},
                   {"prediction", prediction_json(r)},
                   {"measured",
                    {{"step_time_s", optional_json(r.measured_step_time_s)},
                     {"max_allocated_gib", optional_json(r.max_allocated_gib)},
                     {"max_reserved_gib", optional_json(r.max_reserved_gib)}}}});
  }
  std::cout << out.dump(2) << "\n";
}

void print_history_csv(const std::vector<StoredRun>& runs) {
  // The metric columns: the result columns of the listed runs' workloads, '-' written '_'.
  const std::vector<ResultColumn> columns = result_columns_of(runs);
  std::cout << "end_time,system,model,gpu_type,num_gpus,campaign,run,status,job_state,job_id,";
  for (const ResultColumn& c : columns) {
    std::string name = c.metric;
    std::replace(name.begin(), name.end(), '-', '_');
    std::cout << name << ",";
  }
  std::cout << "mbridge_commit,container_image,parameters\n";
  for (const StoredRun& r : runs) {
    std::vector<std::string> params;
    for (const auto& [k, v] : r.params) params.push_back(k + "=" + v);
    std::vector<std::string> row = {
        r.end_time, r.system, r.model,   r.gpu_type, std::to_string(r.num_gpus),
        r.campaign, label(r), r.verdict, r.state,    r.job_id};
    for (const ResultColumn& c : columns) row.push_back(fixed(r.metrics, c.metric, 6));
    for (std::string s : {r.mbridge_commit, r.container_image, join(params, ";")})
      row.push_back(std::move(s));
    for (size_t i = 0; i < row.size(); ++i) std::cout << (i ? "," : "") << csv_field(row[i]);
    std::cout << "\n";
  }
}

// Table: only the parameters that differ between the listed runs.
void print_history_table(const HistoryOptions& o, const std::vector<StoredRun>& runs) {
  std::map<std::string, std::set<std::string>> values;
  for (const StoredRun& r : runs)
    for (const auto& [k, v] : r.params) values[k].insert(v);
  const std::vector<ResultColumn> columns = result_columns_of(runs);
  std::vector<std::vector<std::string>> rows = {
      {"end", "system", "model", "run", "parameters", "status"}};
  for (const ResultColumn& c : columns) rows[0].push_back(c.header);
  for (const StoredRun& r : runs) {
    std::vector<std::string> params;
    for (const auto& [k, v] : r.params)
      if (values[k].size() > 1) params.push_back(k.substr(k.find('.') + 1) + "=" + v);
    rows.push_back({r.end_time.empty() ? "-" : r.end_time, r.system.empty() ? "-" : r.system,
                    r.model.empty() ? "-" : r.model, label(r),
                    params.empty() ? "-" : join(params, " "), r.verdict});
    for (const ResultColumn& c : columns)
      rows.back().push_back(fixed(r.metrics, c.metric, c.decimals));
  }
  std::cout << format_text_table(rows);
  std::cout << runs.size() << " run(s)"
            << (o.limit > 0 && static_cast<long long>(runs.size()) == o.limit
                    ? " (limit reached; --limit N for more)"
                    : "")
            << "\n";
}

}  // namespace

int cmd_history(const HistoryOptions& o) {
  const std::filesystem::path path = resolve_store_path(o.where);
  if (!std::filesystem::exists(path)) {
    log::error("no results store at " + path.string() +
               " (runs are recorded there by `benchpilot run`; `benchpilot index DIR...` builds "
               "it from results folders)");
    return 1;
  }
  auto store = open_sqlite_store(path);
  std::optional<HistoryQuery> q = history_query(o);
  if (!q) return 2;
  std::vector<StoredRun> runs = store->query(*q);
  if (!o.html.empty()) write_history_page(o, runs);
  if (o.format == "json")
    print_history_json(runs);
  else if (o.format == "csv")
    print_history_csv(runs);
  else
    print_history_table(o, runs);
  return 0;
}

}  // namespace bp
