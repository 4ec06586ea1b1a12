#include "loaders/load_scenario.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "config/schema.h"
#include "config/time_limit.h"
#include "config/toml_reader.h"
#include "util/error.h"
#include "util/strings.h"

namespace bp {
namespace {

const std::vector<std::string> kScenarioKeys = {
    "name", "sol_path", "job_status_check", "pre_test", "post_test", "reports", "Tests"};

// Case keys that describe the run, not the test.
const std::vector<std::string> kRunKeys = {
    "id",         "test_name", "num_nodes",  "nodes",      "exclude_nodes", "weight",
    "iterations", "sol",       "ideal_perf", "time_limit", "dependencies",  "extra_srun_args"};

// Test fields a case may override (or set, for an inline test).
const std::vector<std::string> kOverridableKeys = {"test_template_name",
                                                   "name",
                                                   "description",
                                                   "cmd_args",
                                                   "dse_excluded_args",
                                                   "extra_env_vars",
                                                   "extra_container_mounts",
                                                   "git_repos",
                                                   "nsys",
                                                   "agent",
                                                   "agent_steps",
                                                   "agent_metrics",
                                                   "agent_reward_function",
                                                   "agent_config",
                                                   "reference",
                                                   "estimate"};

const std::vector<std::string> kTestFileOnlyKeys = {"extra_cmd_args", "env_params",
                                                    "training_report"};

const std::vector<std::pair<std::string, DependencyType>> kDependencyTypes = {
    {"start_post_init", DependencyType::kStartPostInit},
    {"start_post_comp", DependencyType::kStartPostComp},
    {"end_post_comp", DependencyType::kEndPostComp}};

bool contains_key(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::string known_tests_hint(const std::string& name, const std::vector<TestDefinition>& tests) {
  if (tests.empty()) return " (no tests were loaded: check --tests-dir)";
  std::vector<std::string> names;
  for (const auto& t : tests) names.push_back(t.name);
  std::string hint;
  std::string suggestion = closest_match(name, names);
  if (!suggestion.empty()) hint += "; did you mean \"" + suggestion + "\"?";
  constexpr size_t kShown = 5;
  std::vector<std::string> shown(names.begin(), names.begin() + std::min(kShown, names.size()));
  hint += " (known tests: " + join(shown, ", ");
  if (names.size() > kShown) hint += " and " + std::to_string(names.size() - kShown) + " more";
  return hint + ")";
}

// Bounds that keep counts in an int (and far beyond any real cluster); the limits a user may
// lift with --allow-large are lower and checked in the CLI.
constexpr int64_t kMaxNodeCount = 1000000;
constexpr int64_t kMaxIterationsField = 1000000000;

void read_num_nodes(const TableFields& f, TestRun& run) {
  const Value* v = f.get("num_nodes");
  if (!v) return;
  std::string path = f.key_path("num_nodes");
  auto check = [](const Value& item, const std::string& item_path) {
    int64_t n = expect_int(item, item_path);
    if (n < 1 || n > kMaxNodeCount)
      throw ConfigError(item.loc(), item_path,
                        "expected a node count from 1 to " + std::to_string(kMaxNodeCount) +
                            ", got " + std::to_string(n));
    return n;
  };
  run.num_nodes.clear();
  if (v->is_array()) {
    if (v->items().empty())
      f.fail("num_nodes", "expected an integer or a non-empty list of integers, got []");
    for (size_t i = 0; i < v->items().size(); ++i)
      run.num_nodes.push_back(check(v->items()[i], index_key_path(path, i)));
    run.num_nodes_is_list = true;
  } else {
    run.num_nodes.push_back(check(*v, path));
  }
}

std::vector<Dependency> read_dependencies(const TableFields& f) {
  std::vector<Dependency> out;
  const Value* list = f.optional_array("dependencies");
  if (!list) return out;
  for (size_t i = 0; i < list->items().size(); ++i) {
    TableFields df(list->items()[i], index_key_path(f.key_path("dependencies"), i), "dependency");
    df.check_keys({"type", "id"});
    std::string type = df.required_string("type");
    auto it = std::find_if(kDependencyTypes.begin(), kDependencyTypes.end(),
                           [&](const auto& entry) { return entry.first == type; });
    if (it == kDependencyTypes.end())
      df.fail("type", "unknown dependency type \"" + type +
                          "\" (expected start_post_init, start_post_comp or end_post_comp)");
    out.push_back(Dependency{it->second, df.required_string("id")});
  }
  return out;
}

// The case's test fields, as a table to merge into (or to be) the test's table.
Value test_overrides(const Value& case_table) {
  Value out = Value::table(case_table.loc());
  for (size_t i = 0; i < case_table.keys().size(); ++i)
    if (!contains_key(kRunKeys, case_table.keys()[i]))
      out.set(case_table.keys()[i], case_table.items()[i]);
  return out;
}

TestDefinition resolve_test(const TableFields& f, const std::vector<TestDefinition>& tests,
                            const WorkloadLookup& workloads) {
  Value overrides = test_overrides(f.table());
  if (auto test_name = f.optional_string("test_name")) {
    if (f.has("test_template_name"))
      f.fail("test_template_name",
             "test_template_name cannot be set together with test_name (test_name uses the "
             "template of the named test)");
    auto it = std::find_if(tests.begin(), tests.end(),
                           [&](const TestDefinition& t) { return t.name == *test_name; });
    if (it == tests.end())
      f.fail("test_name",
             "unknown test \"" + *test_name + "\"" + known_tests_hint(*test_name, tests));
    Value merged = it->raw;
    deep_merge(merged, overrides);
    return parse_test_table(merged, workloads, f.path());
  }
  if (!f.has("test_template_name"))
    f.fail("test_name",
           "a case needs test_name (a test from the tests directory) or an inline test "
           "(test_template_name, name and description)");
  return parse_test_table(overrides, workloads, f.path());
}

TestRun read_case(const TableFields& f, const std::vector<TestDefinition>& tests,
                  const WorkloadLookup& workloads) {
  for (const std::string& key : f.table().keys())
    if (contains_key(kTestFileOnlyKeys, key))
      f.fail(key, "'" + key + "' can only be set in the test file, not in a scenario case");
  std::vector<std::string> allowed = kRunKeys;
  allowed.insert(allowed.end(), kOverridableKeys.begin(), kOverridableKeys.end());
  f.check_keys(allowed);

  TestRun run;
  run.loc = f.table().loc();
  run.id = f.required_safe_name("id");
  run.test = resolve_test(f, tests, workloads);
  read_num_nodes(f, run);
  run.nodes = f.one_line_string_list("nodes");
  run.exclude_nodes = f.one_line_string_list("exclude_nodes");
  run.weight = f.number_or("weight", 0);
  // Large counts are refused later unless confirmed (--allow-large); this bound keeps the value
  // an int.
  run.iterations = static_cast<int>(f.int_in_range("iterations", 1, kMaxIterationsField, 1));
  run.sol = f.optional_number("sol");
  run.ideal_perf = f.number_or("ideal_perf", 1.0);
  if (auto limit = f.optional_string("time_limit")) {
    try {
      run.time_limit = normalize_time_limit(*limit);
    } catch (const ValueError& e) {
      f.fail("time_limit", e.what());
    }
  }
  run.dependencies = read_dependencies(f);
  run.extra_srun_args = f.srun_args_or_empty("extra_srun_args");
  return run;
}

// A cycle (a waits for b, b waits for a) would submit nothing and exit 0: refuse it. Iterative
// depth-first search: a chain of many thousand cases must not overflow the stack.
void check_dependency_cycles(const Value& cases, const std::vector<TestRun>& runs) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < runs.size(); ++i) index[runs[i].id] = i;
  std::vector<int> color(runs.size(), 0);  // 0 new, 1 on the current path, 2 done
  for (size_t start = 0; start < runs.size(); ++start) {
    if (color[start] != 0) continue;
    std::vector<std::pair<size_t, size_t>> path = {{start, 0}};  // case, next dependency
    color[start] = 1;
    while (!path.empty()) {
      auto& [i, next] = path.back();
      if (next == runs[i].dependencies.size()) {
        color[i] = 2;
        path.pop_back();
        continue;
      }
      size_t j = index.at(runs[i].dependencies[next++].id);
      if (color[j] == 1) {
        std::vector<std::string> ids;
        size_t first = 0;
        while (path[first].first != j) ++first;
        for (size_t k = first; k < path.size(); ++k) ids.push_back(runs[path[k].first].id);
        ids.push_back(runs[j].id);
        if (ids.size() > 12) {  // keep the message readable: the start, the count, the end
          size_t n = ids.size() - 1;
          ids.erase(ids.begin() + 10, ids.end() - 1);
          ids.insert(ids.end() - 1, "... (" + std::to_string(n) + " cases)");
        }
        throw ConfigError(
            cases.items()[i].find("dependencies")->loc(),
            index_key_path("Tests", i) + ".dependencies",
            "dependency cycle: " + join(ids, " -> ") + " (no case of a cycle could ever start)");
      }
      if (color[j] == 0) {
        color[j] = 1;
        path.emplace_back(j, 0);
      }
    }
  }
}

void check_dependencies(const Value& cases, const std::vector<TestRun>& runs) {
  for (size_t i = 0; i < runs.size(); ++i) {
    for (size_t j = 0; j < runs[i].dependencies.size(); ++j) {
      const std::string& target = runs[i].dependencies[j].id;
      const Value& dep = cases.items()[i].find("dependencies")->items()[j];
      std::string path = index_key_path(index_key_path("Tests", i) + ".dependencies", j) + ".id";
      const Value* id_value = dep.find("id");
      if (target == runs[i].id)
        throw ConfigError(id_value->loc(), path, "case \"" + target + "\" depends on itself");
      bool known =
          std::any_of(runs.begin(), runs.end(), [&](const TestRun& r) { return r.id == target; });
      if (!known) {
        std::vector<std::string> ids;
        for (const auto& r : runs) ids.push_back(r.id);
        throw ConfigError(id_value->loc(), path,
                          "unknown case id \"" + target + "\" (case ids: " + join(ids, ", ") + ")");
      }
    }
  }
}

}  // namespace

Scenario parse_scenario_table(const Value& table, const std::vector<TestDefinition>& tests,
                              const WorkloadLookup& workloads) {
  TableFields f(table, "", "scenario");
  f.check_keys(kScenarioKeys);
  Scenario s;
  s.loc = table.loc();
  s.name = f.required_safe_name("name");
  f.optional_string("sol_path");
  s.job_status_check = f.bool_or("job_status_check", true);
  s.pre_test = f.string_or("pre_test", "");
  s.post_test = f.string_or("post_test", "");
  if (const Value* reports = f.optional_table("reports")) {
    for (size_t i = 0; i < reports->keys().size(); ++i)
      TableFields(reports->items()[i], join_key_path("reports", reports->keys()[i]),
                  "report settings")
          .optional_bool("enable");
    s.reports = *reports;
  }

  const Value* cases = f.optional_array("Tests");
  if (!cases || cases->items().empty())
    f.fail("Tests", "a scenario needs at least one [[Tests]] case");
  std::map<std::string, int> line_of_id;
  for (size_t i = 0; i < cases->items().size(); ++i) {
    TableFields cf(cases->items()[i], index_key_path("Tests", i), "scenario case");
    TestRun run = read_case(cf, tests, workloads);
    auto [it, inserted] = line_of_id.emplace(run.id, cf.get("id")->loc().line);
    if (!inserted)
      cf.fail("id", "duplicate case id \"" + run.id + "\" (first used on line " +
                        std::to_string(it->second) + ")");
    s.runs.push_back(std::move(run));
  }
  check_dependencies(*cases, s.runs);
  check_dependency_cycles(*cases, s.runs);
  return s;
}

Scenario load_scenario(const std::filesystem::path& file, const std::vector<TestDefinition>& tests,
                       const WorkloadLookup& workloads) {
  return parse_scenario_table(read_toml_file(file), tests, workloads);
}

Scenario load_scenario(const std::filesystem::path& file,
                       const std::vector<TestDefinition>& tests) {
  return load_scenario(file, tests, registry_workloads());
}

HookMap load_hooks(const std::filesystem::path& dir, const WorkloadLookup& workloads) {
  HookMap hooks;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return hooks;
  std::vector<TestDefinition> tests;
  if (std::filesystem::is_directory(dir / "test", ec))
    tests = load_tests_dir(dir / "test", workloads);
  for (const std::filesystem::path& file : toml_files_in(dir)) {
    Scenario s = load_scenario(file, tests, workloads);
    auto hook = std::make_shared<Hook>();
    hook->name = s.name;
    hook->runs = std::move(s.runs);
    hook->loc = s.loc;
    auto [it, inserted] = hooks.emplace(hook->name, hook);
    if (!inserted)
      throw ConfigError(s.loc, "name",
                        "hook \"" + s.name + "\" is also defined in " + it->second->loc.file);
  }
  return hooks;
}

HookMap load_hooks(const std::filesystem::path& dir) {
  return load_hooks(dir, registry_workloads());
}

void attach_hooks(Scenario& scenario, const HookMap& hooks, const std::filesystem::path& hook_dir) {
  auto find = [&](const std::string& name, const char* key) -> std::shared_ptr<const Hook> {
    if (name.empty()) return nullptr;
    auto it = hooks.find(name);
    if (it == hooks.end()) {
      std::vector<std::string> names;
      for (const auto& [n, h] : hooks) names.push_back(n);
      throw ConfigError(
          scenario.loc, key,
          std::string(key == std::string("pre_test") ? "Pre" : "Post") + "-test hook '" + name +
              "' not found in hook mapping. A corresponding "
              "hook should exist under '" +
              hook_dir.string() +
              "' (hooks found: " + (names.empty() ? std::string("none") : join(names, ", ")) + ")");
    }
    return it->second;
  };
  std::shared_ptr<const Hook> pre = find(scenario.pre_test, "pre_test");
  std::shared_ptr<const Hook> post = find(scenario.post_test, "post_test");
  int64_t hook_seconds = 0;
  for (const auto& hook : {pre, post})
    if (hook)
      for (const TestRun& r : hook->runs)
        if (r.time_limit) hook_seconds += time_limit_seconds(*r.time_limit);
  for (TestRun& run : scenario.runs) {
    run.pre_test = pre;
    run.post_test = post;
    if (run.time_limit && hook_seconds > 0)
      run.time_limit = format_time_limit(time_limit_seconds(*run.time_limit) + hook_seconds);
  }
}

}  // namespace bp
