// A test: one workload with its arguments, as described by a test TOML (CloudAI format).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/value.h"
#include "core/estimate.h"
#include "core/reward.h"
#include "core/system.h"

namespace bp {

struct GitRepo {
  std::string url;
  std::string commit;
  bool init_submodules = false;
  std::string mount_as;  // empty = not mounted
  SourceLoc loc;

  // "Megatron-Bridge" for ".../Megatron-Bridge.git".
  std::string repo_name() const;
  // Clone folder name under install_path: "<repo>__<commit>".
  std::string dir_name() const { return repo_name() + "__" + commit; }
};

// What a run should achieve: `[reference]` (or `[[reference]]`) in a test TOML or a scenario
// case, or an entry of a `--reference` file. The gate (store/regression.h) judges runs by it.
struct PerfReference {
  // Which runs it applies to (empty: any). A test's or case's references get the case id.
  std::string case_id, model;
  std::vector<std::pair<std::string, std::string>> params;  // "cmd_args.tp" -> "2"
  std::optional<double> step_time;  // `value`: expected mean of the comparison metric ...
  double tolerance = 0.05;          // ... within ± this fraction
  bool last_passing = false;        // no slower than the last passing run on this system
  SourceLoc loc;
};

struct TestDefinition {
  std::string name;
  std::string description;
  std::string test_template_name;
  // The workload's arguments exactly as written: a key is present only when a user wrote it
  // (in the test file or a scenario override). Defaults live in the workload's schema.
  Value cmd_args = Value::table();
  std::vector<std::string> dse_excluded_args;
  // Values are strings or lists of strings (lists make a sweep).
  Value extra_env_vars = Value::table();
  std::vector<std::pair<std::string, std::string>> extra_cmd_args;
  std::vector<std::string> extra_container_mounts;
  std::vector<GitRepo> git_repos;
  // CloudAI's nemo_run_repo, for workloads whose launcher runs with NeMo-Run
  // (Workload::takes_nemo_run_repo): installed into the launcher's venv; unset = main.
  std::optional<GitRepo> nemo_run_repo;
  std::string agent = "grid_search";
  std::optional<int64_t> agent_steps;  // unset = agent's own default
  std::vector<std::string> agent_metrics = {"default"};
  std::string agent_reward_function{kDefaultRewardFunction};
  Value agent_config = Value::table();
  // Expected performance (`reference`, a benchpilot addition); empty for CloudAI tests.
  std::vector<PerfReference> references;
  // `[estimate] oom`: what a point predicted out of memory does (rule E1; a benchpilot addition).
  // Pruned by default: no configuration the framework's vendor publishes as run comes out above
  // the prune margin (kOomPruneAbove, core/estimate.h), so a pruned point is a clear case.
  OomRule oom_rule = OomRule::kPrune;

  // The merged source table, for test-run.toml and best-config dumps.
  Value raw = Value::table();
  SourceLoc loc;
};

}  // namespace bp
