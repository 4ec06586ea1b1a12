// What a scheduler recorded in a run folder about the run's job once it ended (its job record
// file, written by the scheduler's executor), in the terms judge, the reports and the store use.
// Each scheduler reads its own file (Scheduler::read_job_record); the rest of benchpilot knows
// neither the file's name nor its format.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/value.h"
#include "core/run_record.h"

namespace bp {

struct JobRecord {
  std::string file;        // the record's file name in the run folder, for messages
  std::string unreadable;  // why the file could not be read; empty when it was read
  std::string job_id;
  std::string state;  // as recorded; empty unless the file holds a non-empty string state
  std::string start_time;
  std::string end_time;
  std::optional<double> elapsed_seconds;
  std::vector<AttemptRecord> attempts;  // every job the run submitted, oldest first
};

// The run folder's job record, from the first scheduler (in registry order) whose record file
// the folder holds; nullopt when none does (a killed run's folder, results from elsewhere).
std::optional<JobRecord> read_job_record(const std::filesystem::path& run_dir);

// Whether `file_name` is a scheduler's job record file (for the reports' file links).
bool is_job_record_file(std::string_view file_name);

// For a scheduler's reader: <run_dir>/<file> as a TOML job record, nullopt when it does not
// exist. A file that is not readable TOML (garbage, a FIFO) comes back with `unreadable` set.
// Otherwise the keys every scheduler's record shares (CloudAI's SlurmJobMetadata names:
// job_id, state, start_time, end_time, elapsed_time_sec) are read, and `doc` (when given)
// receives the document for the scheduler's own keys.
std::optional<JobRecord> read_toml_job_record(const std::filesystem::path& run_dir,
                                              std::string_view file, Value* doc = nullptr);

}  // namespace bp
