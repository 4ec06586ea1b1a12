// plan: what a scenario would cost, before anything is generated or submitted.
#include <iostream>

#include "cli/commands.h"
#include "cli/load.h"
#include "sweep/plan.h"

namespace bp {

int cmd_plan(const CommonOptions& opts) {
  LoadedConfig c = load_config(opts);
  std::vector<Plan> plans;
  for (const TestRun& run : c.scenario.runs) plans.push_back(make_plan(run, c.system));
  std::cout << format_plan(plans);
  return 0;
}

}  // namespace bp
