#include "engine/preflight.h"

#include "core/scheduler.h"
#include "core/workload.h"
#include "engine/engine_internal.h"
#include "sweep/constraints.h"
#include "sweep/dse_driver.h"
#include "sweep/param_space.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

void for_each_test(const Scenario& scenario, const std::function<void(const TestRun&)>& check) {
  for (const TestRun& run : scenario.runs) {
    check(run);
    for (const auto& hook : {run.pre_test, run.post_test})
      if (hook)
        for (const TestRun& h : hook->runs) check(h);
  }
}

void preflight(const System& system, const Scenario& scenario) {
  // The HF token and similar checks come first, once: nothing is installed or written before.
  for_each_test(scenario, [&](const TestRun& run) {
    if (const Workload* w = find_workload(run.test.test_template_name))
      w->preflight(run.test, system, PreflightMode::kBeforeRun);
  });
  check_cases(system, scenario);
}

void check_installed_workloads(const System& system, const Scenario& scenario) {
  for_each_test(scenario, [&](const TestRun& run) {
    if (const Workload* w = find_workload(run.test.test_template_name))
      w->preflight(run.test, system, PreflightMode::kAfterInstall);
  });
}

void check_cases(const System& system, const Scenario& scenario) {
  const NodeCapacity capacity = scheduler_of(system).listed_nodes(system);
  for (const TestRun& run : scenario.runs) {
    if (capacity.nodes > 0)
      for (int64_t n : run.num_nodes)
        if (n > static_cast<int64_t>(capacity.nodes))
          throw ConfigError(run.loc, "Tests." + run.id + ".num_nodes",
                            "asks for " + std::to_string(n) + " nodes, but " + capacity.where +
                                " lists " + std::to_string(capacity.nodes) + " in " +
                                system.loc.str());
    ParamSpace space = ParamSpace::of(run);
    if (space.is_sweep()) continue;
    CompiledConstraints constraints = compile_case_constraints(run, space, &system);
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

void check_engine_can_run(const System& system, const Scenario& scenario,
                          UnsupportedWorkloads unsupported) {
  for (const TestRun& run : scenario.runs) {
    const Workload& w = workload_of(run);
    if (w.info().submits_own_jobs && !scheduler_of(system).runs_self_submitting()) {
      std::vector<std::string> able;
      for (const Scheduler* s : all_schedulers())
        if (s->runs_self_submitting()) able.emplace_back(s->name());
      std::string msg = std::string(w.name()) + " runs only on " + join(able, " or ") +
                        " systems (it submits its own jobs), not on '" + system.scheduler + "' (" +
                        system.name + ")";
      if (unsupported == UnsupportedWorkloads::kRefuse)
        throw ConfigError(run.loc, "Tests." + run.id, msg);
      log::warn(msg + "; generating the files anyway (dry-run)");
    }
    if (is_sweep(run) && !run.dependencies.empty())
      throw ConfigError(run.loc, "Tests." + run.id + ".dependencies",
                        "a swept case cannot have dependencies (its points run in parallel); "
                        "remove the dependencies or the list values");
  }
}

}  // namespace bp
