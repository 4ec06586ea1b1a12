#include "cli/load.h"

#include "config/load_scenario.h"
#include "config/load_system.h"
#include "config/load_test.h"
#include "core/workload.h"
#include "util/log.h"

namespace bp {

LoadedConfig load_config(const CommonOptions& opts) {
  LoadedConfig c;
  c.system = load_system(opts.system_config);
  if (!opts.tests_dir.empty()) c.tests = load_tests_dir(opts.tests_dir);
  c.scenario = load_scenario(opts.test_scenario, c.tests);
  if (!opts.output_dir.empty()) c.system.output_path = std::filesystem::absolute(opts.output_dir);
  if (!opts.hook_dir.empty())
    log::warn("--hook-dir: pre/post test hooks are not supported yet; ignored");
  if (!c.scenario.pre_test.empty() || !c.scenario.post_test.empty())
    log::warn(c.scenario.loc.str() +
              ": pre_test/post_test: hooks are not supported yet; the cases run without them");
  return c;
}

std::vector<Installable> scenario_installables(const LoadedConfig& c) {
  std::vector<Installable> items;
  for (const TestRun& run : c.scenario.runs)
    if (const Workload* w = find_workload(run.test.test_template_name))
      for (Installable& i : w->installables(run.test, c.system)) items.push_back(std::move(i));
  return dedup(std::move(items));
}

}  // namespace bp
