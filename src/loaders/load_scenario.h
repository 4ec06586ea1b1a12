// Loads a scenario TOML (CloudAI format): the cases to run, each with its test resolved.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/value.h"
#include "core/scenario.h"
#include "core/test_definition.h"
#include "loaders/load_test.h"

namespace bp {

// A case names a test (`test_name`, one of `tests`) and may override its fields, or defines
// one inline (test_template_name + name + description). Overrides follow CloudAI: the case's
// test fields are deep-merged into the test's raw table (tables merged key by key, lists and
// scalars replaced) and the result is parsed again, so only values somebody wrote are present.
// time_limit is normalized (config/time_limit.h). pre_test/post_test are kept as names
// (attach_hooks resolves them). sol_path is accepted and ignored.
// Throws ConfigError naming file, line and key path (e.g. "Tests[2].dependencies[0].id").
Scenario load_scenario(const std::filesystem::path& file, const std::vector<TestDefinition>& tests,
                       const WorkloadLookup& workloads);
Scenario load_scenario(const std::filesystem::path& file, const std::vector<TestDefinition>& tests);

Scenario parse_scenario_table(const Value& table, const std::vector<TestDefinition>& tests,
                              const WorkloadLookup& workloads);

// CloudAI's hook folder (--hook-dir, default conf/hook): every DIR/*.toml is a hook scenario
// whose cases name tests of DIR/test/*.toml. By scenario name; empty when DIR does not exist.
using HookMap = std::map<std::string, std::shared_ptr<const Hook>>;
HookMap load_hooks(const std::filesystem::path& dir, const WorkloadLookup& workloads);
HookMap load_hooks(const std::filesystem::path& dir);

// Resolves the scenario's pre_test/post_test names into every case, and adds the hook cases'
// time limits to each case's limit (as CloudAI; a case without a limit keeps none). An unknown
// name is a ConfigError at the scenario's key naming `hook_dir`.
void attach_hooks(Scenario& scenario, const HookMap& hooks, const std::filesystem::path& hook_dir);

}  // namespace bp
