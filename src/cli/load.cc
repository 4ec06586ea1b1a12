#include "cli/load.h"

#include "core/scheduler.h"
#include "core/workload.h"
#include "loaders/load_scenario.h"
#include "loaders/load_system.h"
#include "loaders/load_test.h"
#include "sweep/constraints.h"
#include "sweep/param_space.h"
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

void check_cases(const LoadedConfig& c) {
  const NodeCapacity capacity = scheduler_of(c.system).listed_nodes(c.system);
  for (const TestRun& run : c.scenario.runs) {
    if (capacity.nodes > 0)
      for (int64_t n : run.num_nodes)
        if (n > static_cast<int64_t>(capacity.nodes))
          throw ConfigError(run.loc, "Tests." + run.id + ".num_nodes",
                            "asks for " + std::to_string(n) + " nodes, but " + capacity.where +
                                " lists " + std::to_string(capacity.nodes) + " in " +
                                c.system.loc.str());
    ParamSpace space = ParamSpace::of(run);
    if (space.is_sweep()) continue;
    CompiledConstraints constraints = compile_case_constraints(run, space, &c.system);
    if (constraints.empty()) continue;
    std::vector<uint32_t> none;
    if (!constraints.check(none)) continue;
    std::vector<std::string> reasons;
    for (const Violation& v : constraints.explain(none))
      reasons.push_back(v.rule_id + " " + v.rule_name + ": " + v.message);
    throw ConfigError(
        run.loc, "Tests." + run.id,
        "this case breaks " + std::string(reasons.size() == 1 ? "a rule" : "rules") +
            " the job would fail on (a sweep would prune it): " + join(reasons, "; "));
  }
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
