#include "cli/load.h"

#include "core/workload.h"
#include "loaders/load_scenario.h"
#include "loaders/load_system.h"
#include "loaders/load_test.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

LoadedConfig load_config(const CommonOptions& opts) {
  LoadedConfig c;
  c.system = load_system(opts.system_config);
  if (!opts.tests_dir.empty()) c.tests = load_tests_dir(opts.tests_dir);
  c.scenario = load_scenario(opts.test_scenario, c.tests);
  if (!opts.output_dir.empty()) {
    if (has_control_char(opts.output_dir))
      throw ValueError("--output-dir: expected one line of text without control characters, got " +
                       shell_quote(opts.output_dir));
    c.system.output_path = std::filesystem::absolute(opts.output_dir);
  }
  // Hooks are read when the scenario names one or a hook folder is given (CloudAI's default
  // folder is conf/hook under the working directory).
  if (!opts.hook_dir.empty() || !c.scenario.pre_test.empty() || !c.scenario.post_test.empty()) {
    std::filesystem::path hook_dir = opts.hook_dir.empty() ? "conf/hook" : opts.hook_dir;
    attach_hooks(c.scenario, load_hooks(hook_dir), hook_dir);
  }
  return c;
}

std::vector<Installable> scenario_installables(const LoadedConfig& c) {
  std::vector<Installable> items;
  auto add = [&](const TestRun& run) {
    if (const Workload* w = find_workload(run.test.test_template_name))
      for (Installable& i : w->installables(run.test, c.system)) items.push_back(std::move(i));
  };
  for (const TestRun& run : c.scenario.runs) {
    add(run);
    for (const auto& hook : {run.pre_test, run.post_test})
      if (hook)
        for (const TestRun& h : hook->runs) add(h);
  }
  return dedup(std::move(items));
}

}  // namespace bp
