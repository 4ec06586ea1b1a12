// plan: what a scenario would cost, before anything is generated or submitted.
#include <iostream>

#include "cli/commands.h"
#include "cli/limits.h"
#include "cli/load.h"
#include "engine/preflight.h"
#include "sweep/plan.h"
#include "util/strings.h"

namespace bp {

int cmd_plan(const CommonOptions& opts) {
  LoadedConfig c = load_config(opts);
  check_cases(c.system, c.scenario);
  WorkLimits limits;
  if (!opts.allow_large) check_sweep_sizes(c.scenario, limits);
  std::vector<Plan> plans;
  for (const TestRun& run : c.scenario.runs) plans.push_back(make_plan(run, c.system));
  std::cout << format_plan(plans);
  std::vector<std::string> over = exceeded_limits(c.scenario, plans, limits);
  if (!over.empty() && !opts.allow_large)
    std::cout << "\nrun and dry-run will refuse this without " << kAllowLargeFlag << ": "
              << join(over, "; ") << "\n";
  return 0;
}

}  // namespace bp
