// The core of `verify-configs`: checks every TOML under a folder.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "loaders/load_test.h"

namespace bp {

struct VerifyResult {
  int passed = 0;
  int failed = 0;
  // Files for a workload or scheduler that CloudAI has and benchpilot does not (and scenarios
  // using such tests): not checked, and not an error in the file.
  int unsupported = 0;
  // One line per file ("OK   <path> (system)" / "FAIL <path>: <error>" / "SKIP <path>: <why>"),
  // then a summary line.
  std::vector<std::string> lines;

  // The exit verdict: no file failed, and with `strict` none was skipped as unsupported.
  bool ok(bool strict) const { return failed == 0 && !(strict && unsupported > 0); }
};

// Classifies every **/*.toml under `dir` (sorted by path): a system has `scheduler`, a scenario
// has `Tests`, a test has `test_template_name`; anything else fails as unknown. Systems and
// tests are loaded; scenarios are loaded against the tests in `tests_dir` when given, else
// against every test file found under `dir` that loads (the first by path where folders share a
// name). As in CloudAI, a duplicate test name is an error only within one folder: the files
// loaded together as one tests directory. Never throws for a bad file.
VerifyResult verify_configs(const std::filesystem::path& dir,
                            const std::optional<std::filesystem::path>& tests_dir,
                            const WorkloadLookup& workloads);
VerifyResult verify_configs(const std::filesystem::path& dir,
                            const std::optional<std::filesystem::path>& tests_dir);

}  // namespace bp
