// generate-report, verify-configs and list.
#include <iostream>

#include "cli/commands.h"
#include "cli/load.h"
#include "config/verify.h"
#include "core/workload.h"
#include "report/summary.h"
#include "sweep/agent.h"
#include "sweep/reward.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

int cmd_generate_report(const CommonOptions& opts, const std::string& result_dir) {
  LoadedConfig c = load_config(opts);
  auto records = collect_results(result_dir, &c.scenario);
  write_summary(std::filesystem::absolute(result_dir), c.scenario.name, records);
  std::cout << format_results_table(records);
  log::info("reports written under " + result_dir);
  return 0;
}

int cmd_verify_configs(const std::string& dir, const std::string& tests_dir) {
  std::optional<std::filesystem::path> tests;
  if (!tests_dir.empty()) tests = tests_dir;
  VerifyResult r = verify_configs(dir, tests);
  for (const std::string& line : r.lines) std::cout << line << "\n";  // ends with the summary
  return r.failed > 0 ? 1 : 0;
}

int cmd_list(const std::string& what, bool verbose) {
  if (what == "workloads") {
    for (const std::string& n : workload_names()) {
      std::cout << n;
      if (verbose) std::cout << "  metrics: " << join(find_workload(n)->metric_names(), ", ");
      std::cout << "\n";
    }
  } else if (what == "agents") {
    for (const std::string& n : agent_names()) std::cout << n << "\n";
    if (verbose) std::cout << "reward functions: " << join(reward_function_names(), ", ") << "\n";
  } else {
    // Per-run reports come from each workload; every results folder gets the summary.
    std::cout << "per_test   report.txt per run (Megatron-Bridge: step time and TFLOP/s/GPU)\n"
                 "summary    summary.json and summary.txt in the results folder\n"
                 "dse        trajectory.csv, pruned.csv and <case>.toml (best point) per sweep\n";
  }
  return 0;
}

}  // namespace bp
