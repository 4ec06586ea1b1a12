// Loads a system TOML (CloudAI format) into a System.
#pragma once

#include <filesystem>

#include "config/value.h"
#include "core/system.h"

namespace bp {

// Reads the keys every system has, then hands the rest to the row of the scheduler registry
// (core/scheduler.h) that `scheduler` names; unknown keys are errors, as in CloudAI. Defaults
// follow CloudAI: hf_home_path install_path/huggingface; the scheduler's own (e.g. its
// monitor_interval) are its row's.
// install_path, output_path and hf_home_path are made absolute against the current directory.
// global_env_vars values must be strings; integers, floats and booleans are converted the way
// CloudAI's Python str() prints them ("8", "1.5", "True") with a warning; lists and tables are
// errors. Throws ConfigError naming file, line and key.
System load_system(const std::filesystem::path& file);

// The same from an already-read table (its loc names the file).
System parse_system_table(const Value& table);

}  // namespace bp
