// generate-report, verify-configs and list.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/load.h"
#include "core/reward.h"
#include "core/workload.h"
#include "loaders/verify.h"
#include "report/html_report.h"
#include "report/junit.h"
#include "report/results_data.h"
#include "report/summary.h"
#include "sweep/agent.h"
#include "sweep/plan.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

bool write_result_reports(const LoadedConfig& c, const CommonOptions& opts,
                          const std::filesystem::path& root,
                          const std::vector<RunRecord>& records) {
  ReportContext ctx;
  ctx.scenario_name = c.scenario.name;
  ctx.gpus_per_node = c.system.gpus_per_node;
  for (const TestRun& run : c.scenario.runs) {
    try {
      ctx.plans.push_back(make_plan(run, c.system));
    } catch (const std::exception& e) {  // the report goes on without this case's plan
      log::warn("no plan for " + run.id + ": " + e.what());
    }
  }
  write_html_report(root, records, ctx);
  try {
    write_junit_report(opts.junit, root, c.scenario.name, records);
  } catch (const OutputError& e) {
    log::error(std::string(e.what()) + " (--junit; the results in " + root.string() +
               " are complete)");
    return false;
  }
  return true;
}

int cmd_generate_report(const CommonOptions& opts, const std::string& result_dir) {
  LoadedConfig c = load_config(opts);
  auto records = collect_results(result_dir, &c.scenario);
  fill_params_from_trajectories(records);
  write_summary(std::filesystem::absolute(result_dir), c.scenario.name, records);
  const bool written =
      write_result_reports(c, opts, std::filesystem::absolute(result_dir), records);
  std::cout << format_results_table(records);
  log::info("reports written under " + result_dir);
  return written ? 0 : kExitOutputFailed;
}

int cmd_verify_configs(const std::string& dir, const std::string& tests_dir, bool strict) {
  std::optional<std::filesystem::path> tests;
  if (!tests_dir.empty()) tests = tests_dir;
  VerifyResult r = verify_configs(dir, tests);
  for (const std::string& line : r.lines) std::cout << line << "\n";  // ends with the summary
  return r.ok(strict) ? 0 : 1;
}

int cmd_list(const std::string& what, bool verbose) {
  if (what == "workloads") {
    for (const std::string& n : workload_names()) {
      std::cout << n;
      if (verbose) std::cout << "  metrics: " << join(find_workload(n)->info().metric_names, ", ");
      std::cout << "\n";
    }
  } else if (what == "agents") {
    for (const std::string& n : agent_names())
      std::cout << fmt::format("{:<14} {}\n", n, agent_description(n));
    if (verbose) std::cout << "reward functions: " << join(reward_function_names(), ", ") << "\n";
  } else {
    // Per-run reports come from each workload; every results folder gets the summary.
    std::cout << "per_test   per run, from its workload:\n";
    for (const std::string& n : workload_names()) {
      const Workload* w = find_workload(n);
      std::vector<std::string> headers;
      for (const ResultColumn& c : w->info().result_columns) headers.push_back(c.header);
      std::cout << "           " << n << ": "
                << (w->info().report_files.empty() ? "-" : join(w->info().report_files, ", "));
      if (!headers.empty()) std::cout << "; results table: " << join(headers, ", ");
      std::cout << "\n";
    }
    std::cout << "summary    summary.json and summary.txt in the results folder\n"
                 "dse        trajectory.csv, pruned.csv and <case>.toml (best point) per sweep\n"
                 "html       report.html in the results folder: runs, leaderboards, heatmaps,\n"
                 "           pruned points, GPU-hours, charts from each workload (self-contained)\n"
                 "junit      results.xml (or --junit PATH): one test case per run\n";
  }
  return 0;
}

}  // namespace bp
