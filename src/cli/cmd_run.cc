// run and dry-run.
#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "cli/limits.h"
#include "cli/load.h"
#include "core/engine.h"
#include "core/executor.h"
#include "core/install.h"
#include "core/workload.h"
#include "report/summary.h"
#include "sweep/plan.h"
#include "systems/slurm/cluster_probe.h"
#include "systems/slurm/node_list.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {
namespace {

void on_signal(int) {
  request_engine_stop();
}

}  // namespace

int cmd_run(const CommonOptions& opts, bool dry_run) {
  LoadedConfig c = load_config(opts);
  if (opts.single_sbatch) {
    log::error(
        "--single-sbatch is not supported: Megatron-Bridge's launcher submits its own "
        "jobs, and benchpilot runs sweep points in parallel instead");
    return 1;
  }
  // The HF token and similar checks come first: nothing is installed or written before them.
  for (const TestRun& run : c.scenario.runs)
    if (const Workload* w = find_workload(run.test.test_template_name)) w->preflight(run.test);

  check_cases(c);
  {  // the same cost summary as `benchpilot plan`, before anything is spent
    WorkLimits limits;
    if (!opts.allow_large) check_sweep_sizes(c.scenario, limits);
    std::vector<Plan> plans;
    for (const TestRun& run : c.scenario.runs) plans.push_back(make_plan(run, c.system));
    std::cout << format_plan(plans) << std::endl;  // flushed: the log (stderr) follows
    std::vector<std::string> over = exceeded_limits(c.scenario, plans, limits);
    if (!over.empty() && !opts.allow_large) {
      log::error("refusing to start: " + join(over, "; ") + ". Nothing was written; pass " +
                 kAllowLargeFlag + " to confirm");
      return 1;
    }
  }

  std::unique_ptr<Executor> executor;
  EngineOptions eo;
  eo.dry_run = dry_run;
  eo.output_path = c.system.output_path;
  if (c.system.supports_gpu_directives)
    eo.gpu_directives_supported = *c.system.supports_gpu_directives;
  if (c.system.scheduler == "slurm") {
    const System& system = c.system;
    eo.resolve_nodes = [&system](const std::vector<std::string>& specs) {
      return resolve_nodes(system, specs);
    };
    // Dry-run talks to no scheduler: it assumes GPU directives work unless the system says no.
    if (!dry_run && !c.system.supports_gpu_directives)
      eo.gpu_directives_supported = probe_gpu_directives(c.system);
  }
  if (!dry_run) {
    auto items = scenario_installables(c);
    if (!opts.enable_cache_without_check && !install_all(items, c.system)) {
      log::error("installation failed; nothing was submitted");
      return 1;
    }
    executor = make_executor(c.system);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
  }

  EngineResult result = run_scenario(c.system, c.scenario, eo, executor.get());
  write_summary(result.results_root, c.scenario.name, result.records);
  std::cout << "\n" << format_results_table(result.records);
  std::cout << "\nResults: " << result.results_root.string() << "\n";
  if (result.interrupted) log::warn("interrupted: submitted jobs were cancelled");
  return result.exit_code;
}

}  // namespace bp
