#include "loaders/verify.h"

#include <algorithm>
#include <map>
#include <set>

#include "config/toml_reader.h"
#include "core/scheduler.h"
#include "loaders/load_scenario.h"
#include "loaders/load_system.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

enum class Kind { kSystem, kTest, kScenario, kUnknown };

Kind classify(const Value& table) {
  if (table.find("scheduler")) return Kind::kSystem;
  if (table.find("Tests")) return Kind::kScenario;
  if (table.find("test_template_name")) return Kind::kTest;
  return Kind::kUnknown;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kSystem:
      return "system";
    case Kind::kTest:
      return "test";
    case Kind::kScenario:
      return "scenario";
    case Kind::kUnknown:
      break;
  }
  return "unknown";
}

// Names CloudAI registers (src/cloudai/registration.py at 5b5c0f7) that benchpilot has no
// plug-in for. A file using one is counted apart, as is one whose workload throws
// UnsupportedError; any other unknown name stays an error (a typo).
constexpr std::string_view kCloudAiOnlyWorkloads[] = {"UCCTest",
                                                      "DDLBTest",
                                                      "ChakraReplay",
                                                      "DeepEP",
                                                      "MoEBenchmark",
                                                      "NeMoLauncher",
                                                      "NeMoRun",
                                                      "JaxToolboxGPT",
                                                      "JaxToolboxGrok",
                                                      "JaxToolboxNemotron",
                                                      "SlurmContainer",
                                                      "MegatronRun",
                                                      "TritonInference",
                                                      "NIXLBench",
                                                      "NixlEP",
                                                      "AIDynamo",
                                                      "BashCmd",
                                                      "NixlPerftest",
                                                      "NIXLKVBench",
                                                      "Aiconfigurator",
                                                      "DynamoMocker",
                                                      "OSUBench",
                                                      "Fio",
                                                      "sglang",
                                                      "vllm"};
constexpr std::string_view kCloudAiOnlySchedulers[] = {"kubernetes", "lsf", "runai"};

template <size_t N>
bool listed(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

struct FileCheck {
  fs::path path;
  Kind kind = Kind::kUnknown;
  Value table;
  std::string error;        // empty = OK (so far)
  std::string unsupported;  // why the file is not checked; empty = it is
};

std::string string_at(const Value& table, const char* key) {
  const Value* v = table.find(key);
  return v && v->is_string() ? v->as_string() : std::string();
}

// "unsupported workload NeMoLauncher" when the file is a test of a CloudAI-only workload.
std::string unsupported_test(const Value& table, const WorkloadLookup& workloads) {
  std::string name = string_at(table, "test_template_name");
  if (name.empty() || (workloads.find && workloads.find(name))) return "";
  return listed(kCloudAiOnlyWorkloads, name) ? "unsupported workload " + name : "";
}

std::string unsupported_system(const Value& table) {
  std::string name = string_at(table, "scheduler");
  if (name.empty() || find_scheduler(name)) return "";
  return listed(kCloudAiOnlySchedulers, name) ? "unsupported scheduler " + name : "";
}

// Tests loaded together; names of tests that could not be checked map to why.
struct TestSet {
  std::vector<TestDefinition> tests;
  std::map<std::string, std::string> unsupported;
};

// Why a scenario cannot be checked: a case names an unsupported test (by test_name, unless a
// supported test has that name too) or has an inline test of an unsupported workload.
std::string unsupported_scenario(const Value& table, const TestSet& set,
                                 const WorkloadLookup& workloads) {
  const Value* cases = table.find("Tests");
  if (!cases || !cases->is_array()) return "";
  for (const Value& c : cases->items()) {
    if (!c.is_table()) continue;
    if (std::string why = unsupported_test(c, workloads); !why.empty()) return why;
    std::string name = string_at(c, "test_name");
    auto it = set.unsupported.find(name);
    if (it == set.unsupported.end()) continue;
    bool also_supported = std::any_of(set.tests.begin(), set.tests.end(),
                                      [&](const TestDefinition& t) { return t.name == name; });
    if (!also_supported) return "test \"" + name + "\" is not checked (" + it->second + ")";
  }
  return "";
}

std::vector<fs::path> toml_files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry :
       fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied)) {
    if (entry.path().extension() == ".toml" && entry.is_regular_file())
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// "FAIL <path>: <text>" / "SKIP ..."; errors already start with "file:line:" for the file
// itself: do not repeat the path then.
std::string file_line(const char* tag, const fs::path& path, const std::string& text) {
  std::string p = path.string();
  if (text.rfind(p + ":", 0) == 0) return tag + text;
  return tag + p + ": " + text;
}
std::string fail_line(const fs::path& path, const std::string& error) {
  return file_line("FAIL ", path, error);
}

template <typename Fn>
void check(FileCheck& file, Fn&& fn) {
  try {
    fn();
  } catch (const UnsupportedError& e) {
    file.unsupported = e.what();
  } catch (const std::exception& e) {
    file.error = e.what();
  }
}

// Loads the test files in `files` (not yet failed); a name twice in one folder is an error.
TestSet load_tests(std::vector<FileCheck*> files, const WorkloadLookup& workloads) {
  TestSet set;
  std::map<std::pair<fs::path, std::string>, std::string> file_of_test;
  for (FileCheck* f : files) {
    f->unsupported = unsupported_test(f->table, workloads);
    if (f->unsupported.empty())
      check(*f, [&] {
        TestDefinition t = parse_test_table(f->table, workloads);
        auto [it, inserted] =
            file_of_test.emplace(std::pair{f->path.parent_path(), t.name}, f->path.string());
        if (!inserted)
          throw ConfigError(
              t.raw.find("name")->loc(), "name",
              "duplicate test name \"" + t.name + "\": also defined in " + it->second);
        set.tests.push_back(std::move(t));
      });
    if (!f->unsupported.empty())
      set.unsupported.emplace(string_at(f->table, "name"), f->unsupported);
  }
  return set;
}

FileCheck read_config_file(const fs::path& path) {
  FileCheck f;
  f.path = path;
  check(f, [&] {
    f.table = read_toml_file(path);
    f.kind = classify(f.table);
    if (f.kind == Kind::kUnknown)
      f.error =
          "cannot tell what this file is: expected a system (scheduler = ...), a test "
          "(test_template_name = ...) or a scenario ([[Tests]])";
  });
  return f;
}

// The tests a scenario is checked against: those of --tests-dir (CloudAI's *.toml directly in
// it), whose errors fail every scenario.
TestSet tests_dir_set(const fs::path& dir, const WorkloadLookup& workloads, std::string& error) {
  std::vector<FileCheck> files;
  try {
    for (const fs::path& path : toml_files_in(dir)) files.push_back(read_config_file(path));
  } catch (const std::exception& e) {
    error = std::string("cannot load the tests in ") + dir.string() + ": " + e.what();
    return {};
  }
  std::vector<FileCheck*> tests;
  for (FileCheck& f : files) {
    if (f.error.empty() && f.kind != Kind::kTest) f.error = "not a test (no test_template_name)";
    if (f.error.empty()) tests.push_back(&f);
  }
  TestSet set = load_tests(tests, workloads);
  for (const FileCheck& f : files)
    if (!f.error.empty()) {
      error = "cannot load the tests in " + dir.string() + ": " + f.error;
      break;
    }
  return set;
}

}  // namespace

VerifyResult verify_configs(const fs::path& dir, const std::optional<fs::path>& tests_dir,
                            const WorkloadLookup& workloads) {
  VerifyResult result;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    result.failed = 1;
    result.lines.push_back(fail_line(dir, "not a directory"));
    return result;
  }

  std::vector<FileCheck> files;
  for (const fs::path& path : toml_files_under(dir)) files.push_back(read_config_file(path));

  std::vector<FileCheck*> test_files;
  for (FileCheck& f : files) {
    if (!f.error.empty()) continue;
    if (f.kind == Kind::kSystem) {
      f.unsupported = unsupported_system(f.table);
      if (f.unsupported.empty()) check(f, [&] { parse_system_table(f.table); });
    }
    if (f.kind == Kind::kTest) test_files.push_back(&f);
  }
  TestSet found = load_tests(test_files, workloads);

  std::string tests_error;
  TestSet scenario_tests =
      tests_dir ? tests_dir_set(*tests_dir, workloads, tests_error) : std::move(found);
  for (FileCheck& f : files) {
    if (!f.error.empty() || f.kind != Kind::kScenario) continue;
    if (!tests_error.empty()) {
      f.error = tests_error;
      continue;
    }
    f.unsupported = unsupported_scenario(f.table, scenario_tests, workloads);
    if (f.unsupported.empty())
      check(f, [&] { parse_scenario_table(f.table, scenario_tests.tests, workloads); });
  }

  for (const FileCheck& f : files) {
    if (!f.error.empty()) {
      ++result.failed;
      result.lines.push_back(fail_line(f.path, f.error));
    } else if (!f.unsupported.empty()) {
      ++result.unsupported;
      result.lines.push_back(
          file_line("SKIP ", f.path, f.unsupported + ": not an error in the file"));
    } else {
      ++result.passed;
      result.lines.push_back("OK   " + f.path.string() + " (" + kind_name(f.kind) + ")");
    }
  }
  if (files.empty()) result.lines.push_back("no .toml files under " + dir.string());
  result.lines.push_back("verified " + std::to_string(files.size()) +
                         " files: " + std::to_string(result.passed) + " passed, " +
                         std::to_string(result.unsupported) + " unsupported, " +
                         std::to_string(result.failed) + " failed");
  return result;
}

VerifyResult verify_configs(const fs::path& dir, const std::optional<fs::path>& tests_dir) {
  return verify_configs(dir, tests_dir, registry_workloads());
}

}  // namespace bp
