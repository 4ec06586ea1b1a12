// plan: what a scenario would cost, before anything is generated or submitted; for the cases
// whose workload estimates, what each running point is predicted to need and take.
#include <iostream>

#include "cli/commands.h"
#include "cli/limits.h"
#include "cli/load.h"
#include "engine/preflight.h"
#include "sweep/plan.h"
#include "util/strings.h"

namespace bp {

int cmd_plan(const CommonOptions& opts, bool calibrate) {
  LoadedConfig c = load_config(opts);
  check_cases(c.system, c.scenario);
  WorkLimits limits;
  if (!opts.allow_large) check_sweep_sizes(c.scenario, limits);
  PlanEstimation estimation;
  estimation.calibrate = calibrate;
  if (calibrate) estimation.calibration_runs = stored_observations(opts);
  std::vector<Plan> plans;
  for (const TestRun& run : c.scenario.runs) plans.push_back(make_plan(run, c.system, &estimation));
  std::cout << format_plan(plans);
  std::vector<std::string> over = exceeded_limits(c.scenario, plans, limits);
  if (!over.empty() && !opts.allow_large)
    std::cout << "\nrun and dry-run will refuse this without " << kAllowLargeFlag << ": "
              << join(over, "; ") << "\n";
  return 0;
}

}  // namespace bp
