// Loads test TOMLs (CloudAI format) into TestDefinitions.
// Implemented in load_test_impl.cc: a file named load_test.cc would match the build's *_test.cc
// glob and be compiled as a test instead of into the library.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/value.h"
#include "core/test_definition.h"

namespace bp {

class Workload;

// How the loaders find workloads by test_template_name. Tests inject fakes; the default uses
// the registry (find_workload / workload_names).
struct WorkloadLookup {
  std::function<const Workload*(std::string_view)> find;
  std::function<std::vector<std::string>()> names;
};
WorkloadLookup registry_workloads();

// Parses one test table (a test file's top level, or a merged scenario case). `key_prefix` is
// prepended to key paths in errors ("Tests[2]" for a scenario case). Unknown keys are errors;
// test_template_name must name a known workload, whose validate() is then called.
// raw = the table as given; cmd_args = only what the user wrote. nsys, predictor,
// training_report and env_params must be tables and are kept in raw only.
TestDefinition parse_test_table(const Value& table, const WorkloadLookup& workloads,
                                const std::string& key_prefix = "");
TestDefinition parse_test_table(const Value& table);

TestDefinition load_test(const std::filesystem::path& file, const WorkloadLookup& workloads);
TestDefinition load_test(const std::filesystem::path& file);

// Every *.toml directly in `dir` (not recursive), in file-name order. Two files defining the
// same test name is an error naming both files.
std::vector<TestDefinition> load_tests_dir(const std::filesystem::path& dir,
                                           const WorkloadLookup& workloads);
std::vector<TestDefinition> load_tests_dir(const std::filesystem::path& dir);

// The *.toml files directly in `dir`, sorted by name. Throws ConfigError when dir is missing.
std::vector<std::filesystem::path> toml_files_in(const std::filesystem::path& dir);

}  // namespace bp
