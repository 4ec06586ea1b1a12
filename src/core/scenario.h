// A scenario: the list of test runs ("cases") to execute, from a scenario TOML (CloudAI format).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/value.h"
#include "core/test_definition.h"

namespace bp {

enum class DependencyType { kStartPostInit, kStartPostComp, kEndPostComp };

struct Hook;

struct Dependency {
  DependencyType type;
  std::string id;  // the case it depends on
};

// One [[Tests]] entry of a scenario, with its test definition resolved and merged.
struct TestRun {
  std::string id;
  TestDefinition test;
  std::vector<int64_t> num_nodes = {1};  // one value, or several when swept
  bool num_nodes_is_list = false;
  std::vector<std::string> nodes;
  std::vector<std::string> exclude_nodes;
  int iterations = 1;
  std::optional<std::string> time_limit;  // normalized: HH:MM:SS or D-HH:MM:SS
  std::vector<Dependency> dependencies;
  std::string extra_srun_args;
  double weight = 0;
  double ideal_perf = 1.0;
  std::optional<double> sol;
  // The scenario's pre_test/post_test hooks (CloudAI: one setting for every case); null = none.
  // A failed pre-test skips the case; post-tests run after it.
  std::shared_ptr<const Hook> pre_test;
  std::shared_ptr<const Hook> post_test;
  SourceLoc loc;
};

// A hook: a scenario of its own from --hook-dir, whose cases run before or after a test.
struct Hook {
  std::string name;
  std::vector<TestRun> runs;
  SourceLoc loc;
};

struct Scenario {
  std::string name;
  bool job_status_check = true;
  std::vector<TestRun> runs;
  Value reports = Value::table();
  std::string pre_test;  // hook names as written; resolved into every case by attach_hooks()
  std::string post_test;
  SourceLoc loc;
};

std::string_view to_string(DependencyType t);

}  // namespace bp
