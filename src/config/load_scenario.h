// Loads a scenario TOML (CloudAI format): the cases to run, each with its test resolved.
#pragma once

#include <filesystem>
#include <vector>

#include "config/load_test.h"
#include "config/value.h"
#include "core/scenario.h"
#include "core/test_definition.h"

namespace bp {

// A case names a test (`test_name`, one of `tests`) and may override its fields, or defines
// one inline (test_template_name + name + description). Overrides follow CloudAI: the case's
// test fields are deep-merged into the test's raw table (tables merged key by key, lists and
// scalars replaced) and the result is parsed again, so only values somebody wrote are present.
// time_limit is normalized (config/time_limit.h). pre_test/post_test are kept as names: hooks
// are not resolved here. sol_path is accepted and ignored.
// Throws ConfigError naming file, line and key path (e.g. "Tests[2].dependencies[0].id").
Scenario load_scenario(const std::filesystem::path& file, const std::vector<TestDefinition>& tests,
                       const WorkloadLookup& workloads);
Scenario load_scenario(const std::filesystem::path& file, const std::vector<TestDefinition>& tests);

Scenario parse_scenario_table(const Value& table, const std::vector<TestDefinition>& tests,
                              const WorkloadLookup& workloads);

}  // namespace bp
