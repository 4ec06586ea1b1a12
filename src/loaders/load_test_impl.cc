#include "loaders/load_test.h"

#include <algorithm>
#include <map>

#include "config/schema.h"
#include "config/toml_reader.h"
#include "core/workload.h"
#include "loaders/perf_reference.h"
#include "util/strings.h"

namespace bp {
namespace {

const std::vector<std::string> kTestKeys = {"name",
                                            "description",
                                            "test_template_name",
                                            "cmd_args",
                                            "dse_excluded_args",
                                            "extra_env_vars",
                                            "extra_cmd_args",
                                            "extra_container_mounts",
                                            "git_repos",
                                            "nemo_run_repo",
                                            "nsys",
                                            "predictor",
                                            "training_report",
                                            "agent",
                                            "agent_steps",
                                            "agent_metrics",
                                            "agent_reward_function",
                                            "agent_config",
                                            "env_params",
                                            "reference",
                                            "estimate"};

const std::vector<std::string> kGitRepoKeys = {"url", "commit", "init_submodules", "mount_as",
                                               "installed_path"};

// `[estimate]`: oom = "prune" (default), "warn" or "off" (rule E1, core/estimate.h).
OomRule read_oom_rule(const Value& table, const std::string& key_path) {
  TableFields f(table, key_path, "estimate table");
  f.check_keys({"oom"});
  if (!f.has("oom")) return OomRule::kPrune;
  const std::string text = f.required_string("oom");
  std::optional<OomRule> rule = parse_oom_rule(text);
  if (!rule) f.fail("oom", "expected \"prune\", \"warn\" or \"off\", got \"" + text + "\"");
  return *rule;
}

Value read_env_vars(const TableFields& f) {
  const Value* table = f.optional_table("extra_env_vars");
  if (!table) return Value::table();
  for (size_t i = 0; i < table->keys().size(); ++i) {
    const Value& v = table->items()[i];
    std::string path = join_key_path(f.key_path("extra_env_vars"), table->keys()[i]);
    // The name becomes `export NAME=...` in scripts: "A=1;touch x;B" must not get there.
    if (!is_shell_identifier(table->keys()[i]))
      throw ConfigError(v.loc(), path,
                        "environment variable names must be shell identifiers (letters, digits "
                        "and '_', not starting with a digit), got " +
                            toml_string(table->keys()[i]));
    if (v.is_array()) {
      expect_string_list(v, path);
    } else if (!v.is_string()) {
      throw ConfigError(
          v.loc(), path,
          "expected a string or a list of strings (a sweep), got " + std::string(v.type_name()));
    }
  }
  return *table;
}

std::vector<std::pair<std::string, std::string>> read_extra_cmd_args(const TableFields& f) {
  std::vector<std::pair<std::string, std::string>> out;
  const Value* table = f.optional_table("extra_cmd_args");
  if (!table) return out;
  for (size_t i = 0; i < table->keys().size(); ++i)
    out.emplace_back(table->keys()[i],
                     expect_string(table->items()[i],
                                   join_key_path(f.key_path("extra_cmd_args"), table->keys()[i])));
  return out;
}

GitRepo read_git_repo(const Value& table, const std::string& path) {
  TableFields rf(table, path, "git repo");
  rf.check_keys(kGitRepoKeys);
  GitRepo repo;
  // url and commit are passed to git: a leading '-' would make them options
  // (--upload-pack=...), a newline would end a script line.
  for (const char* key : {"url", "commit"}) {
    std::string text = rf.required_string(key);
    expect_one_line_string(*rf.get(key), rf.key_path(key));
    if (text.starts_with("-"))
      rf.fail(key, std::string(key) +
                       " cannot start with '-' (git would read it as an option), "
                       "got " +
                       toml_string(text));
  }
  repo.url = rf.required_string("url");
  repo.commit = rf.required_string("commit");
  repo.init_submodules = rf.bool_or("init_submodules", false);
  repo.mount_as = rf.one_line_string_or("mount_as", "");
  // installed_path is CloudAI runtime state: tolerated in old dumps, never used.
  repo.loc = table.loc();
  return repo;
}

std::vector<GitRepo> read_git_repos(const TableFields& f) {
  std::vector<GitRepo> out;
  const Value* list = f.optional_array("git_repos");
  if (!list) return out;
  for (size_t i = 0; i < list->items().size(); ++i)
    out.push_back(read_git_repo(list->items()[i], index_key_path(f.key_path("git_repos"), i)));
  return out;
}

const Workload* find_template(const TableFields& f, const std::string& name,
                              const WorkloadLookup& workloads) {
  const Workload* w = workloads.find ? workloads.find(name) : nullptr;
  if (w) return w;
  std::vector<std::string> known = workloads.names ? workloads.names() : std::vector<std::string>{};
  std::string message = "unknown test_template_name \"" + name + "\"";
  std::string suggestion = closest_match(name, known);
  if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
  message +=
      known.empty() ? " (no workloads are registered)" : " (known: " + join(known, ", ") + ")";
  f.fail("test_template_name", message);
}

}  // namespace

WorkloadLookup registry_workloads() {
  return WorkloadLookup{[](std::string_view name) { return find_workload(name); },
                        [] { return workload_names(); }};
}

TestDefinition parse_test_table(const Value& table, const WorkloadLookup& workloads,
                                const std::string& key_prefix) {
  TableFields f(table, key_prefix, "test");
  f.check_keys(kTestKeys);

  TestDefinition t;
  t.loc = table.loc();
  t.raw = table;
  t.name = f.required_string("name");
  t.description = f.required_string("description");
  t.test_template_name = f.required_string("test_template_name");
  const Workload* workload = find_template(f, t.test_template_name, workloads);

  if (const Value* args = f.optional_table("cmd_args")) t.cmd_args = *args;
  t.dse_excluded_args = f.string_list("dse_excluded_args");
  t.extra_env_vars = read_env_vars(f);
  t.extra_cmd_args = read_extra_cmd_args(f);
  t.extra_container_mounts = f.string_list("extra_container_mounts");
  t.git_repos = read_git_repos(f);
  if (const Value* repo = f.optional_table("nemo_run_repo")) {
    // CloudAI's nemo_run_repo: the NeMo-Run a launcher runs with, for workloads that have one.
    if (!workload->info().takes_nemo_run_repo)
      f.fail("nemo_run_repo", "the " + t.test_template_name +
                                  " workload takes no NeMo-Run repository; remove this table");
    t.nemo_run_repo = read_git_repo(*repo, f.key_path("nemo_run_repo"));
  }
  for (const char* opaque : {"nsys", "predictor", "training_report", "env_params"})
    f.optional_table(opaque);  // kept in raw, not interpreted
  t.agent = f.string_or("agent", t.agent);
  t.agent_steps = f.optional_int("agent_steps");
  if (f.has("agent_metrics")) t.agent_metrics = f.string_list("agent_metrics");
  t.agent_reward_function = f.string_or("agent_reward_function", t.agent_reward_function);
  if (const Value* config = f.optional_table("agent_config")) t.agent_config = *config;
  if (const Value* ref = f.get("reference"))
    t.references = read_perf_references(*ref, f.key_path("reference"), false);
  if (const Value* estimate = f.optional_table("estimate"))
    t.oom_rule = read_oom_rule(*estimate, f.key_path("estimate"));

  workload->validate(t);
  return t;
}

TestDefinition parse_test_table(const Value& table) {
  return parse_test_table(table, registry_workloads());
}

TestDefinition load_test(const std::filesystem::path& file, const WorkloadLookup& workloads) {
  return parse_test_table(read_toml_file(file), workloads);
}

TestDefinition load_test(const std::filesystem::path& file) {
  return load_test(file, registry_workloads());
}

std::vector<std::filesystem::path> toml_files_in(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw ConfigError(SourceLoc{dir.string(), 0}, "", "not a directory");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".toml" && entry.is_regular_file())
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<TestDefinition> load_tests_dir(const std::filesystem::path& dir,
                                           const WorkloadLookup& workloads) {
  std::vector<TestDefinition> tests;
  std::map<std::string, std::string> file_of_name;
  for (const auto& file : toml_files_in(dir)) {
    TestDefinition t = load_test(file, workloads);
    auto [it, inserted] = file_of_name.emplace(t.name, file.string());
    if (!inserted) {
      const Value* name = t.raw.find("name");
      throw ConfigError(name ? name->loc() : t.loc, "name",
                        "duplicate test name \"" + t.name + "\": also defined in " + it->second);
    }
    tests.push_back(std::move(t));
  }
  return tests;
}

std::vector<TestDefinition> load_tests_dir(const std::filesystem::path& dir) {
  return load_tests_dir(dir, registry_workloads());
}

}  // namespace bp
