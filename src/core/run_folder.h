// What a run folder holds, read in one place: the facts of its test-run.toml (case, iteration,
// step, the workload that made it) and, for folders without one, which workload recognizes it.
// generate-report, index, report.html and the training report all ask here.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "config/value.h"

namespace bp {

class Workload;  // core/workload.h

// The description benchpilot (and CloudAI) writes into every run folder.
inline constexpr const char* kTestRunFile = "test-run.toml";

struct RunFolderFacts {
  Value test_run;        // the whole document
  std::string case_id;   // `name`; empty when absent
  int iteration = 0;     // `current_iteration`
  int step = 0;          // `step`: 0 for a case that is not a sweep
  std::string workload;  // `test_definition.test_template_name`; empty when absent
};

// <dir>/test-run.toml's facts; nullopt when the folder has none. Throws (ConfigError, FileError)
// when the file exists but cannot be read or is not TOML: the caller reports such a run.
std::optional<RunFolderFacts> read_run_folder_facts(const std::filesystem::path& dir);

// The workload that made a run folder: the one test-run.toml names when it is known, else the
// first workload that recognizes the folder's files (a CloudAI folder, a log without its TOML);
// nullptr when none does. `facts` is the folder's read_run_folder_facts (nullptr: none).
const Workload* workload_of_run_folder(const std::filesystem::path& dir,
                                       const RunFolderFacts* facts);

// The same, reading test-run.toml itself; an unreadable one counts as absent.
const Workload* workload_of_run_folder(const std::filesystem::path& dir);

}  // namespace bp
