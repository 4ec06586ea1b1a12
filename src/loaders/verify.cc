#include "loaders/verify.h"

#include <algorithm>
#include <map>

#include "config/toml_reader.h"
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

struct FileCheck {
  fs::path path;
  Kind kind = Kind::kUnknown;
  Value table;
  std::string error;  // empty = OK (so far)
};

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

// Errors already start with "file:line:" for the file itself; do not repeat the path then.
std::string fail_line(const fs::path& path, const std::string& error) {
  std::string p = path.string();
  if (error.rfind(p + ":", 0) == 0) return "FAIL " + error;
  return "FAIL " + p + ": " + error;
}

template <typename Fn>
void check(FileCheck& file, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    file.error = e.what();
  }
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
  for (const fs::path& path : toml_files_under(dir)) {
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
    files.push_back(std::move(f));
  }

  std::vector<TestDefinition> found_tests;
  std::map<std::string, std::string> file_of_test;
  for (FileCheck& f : files) {
    if (!f.error.empty()) continue;
    if (f.kind == Kind::kSystem) check(f, [&] { parse_system_table(f.table); });
    if (f.kind != Kind::kTest) continue;
    check(f, [&] {
      TestDefinition t = parse_test_table(f.table, workloads);
      auto [it, inserted] = file_of_test.emplace(t.name, f.path.string());
      if (!inserted)
        throw ConfigError(t.raw.find("name")->loc(), "name",
                          "duplicate test name \"" + t.name + "\": also defined in " + it->second);
      found_tests.push_back(std::move(t));
    });
  }

  std::vector<TestDefinition> scenario_tests = std::move(found_tests);
  std::string tests_error;
  if (tests_dir) {
    try {
      scenario_tests = load_tests_dir(*tests_dir, workloads);
    } catch (const std::exception& e) {
      tests_error =
          std::string("cannot load the tests in ") + tests_dir->string() + ": " + e.what();
    }
  }
  for (FileCheck& f : files) {
    if (!f.error.empty() || f.kind != Kind::kScenario) continue;
    if (!tests_error.empty()) {
      f.error = tests_error;
      continue;
    }
    check(f, [&] { parse_scenario_table(f.table, scenario_tests, workloads); });
  }

  for (const FileCheck& f : files) {
    if (f.error.empty()) {
      ++result.passed;
      result.lines.push_back("OK   " + f.path.string() + " (" + kind_name(f.kind) + ")");
    } else {
      ++result.failed;
      result.lines.push_back(fail_line(f.path, f.error));
    }
  }
  if (files.empty()) result.lines.push_back("no .toml files under " + dir.string());
  result.lines.push_back("verified " + std::to_string(files.size()) +
                         " files: " + std::to_string(result.passed) + " passed, " +
                         std::to_string(result.failed) + " failed");
  return result;
}

VerifyResult verify_configs(const fs::path& dir, const std::optional<fs::path>& tests_dir) {
  return verify_configs(dir, tests_dir, registry_workloads());
}

}  // namespace bp
