// What benchpilot learns from `scontrol show config`: whether GPU directives are accepted and
// where the job-completion log is.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "core/system.h"
#include "util/subprocess.h"

namespace bp {

class CommandRunner;

// From the result of `scontrol show config`: true when a GresTypes line mentions gpu. When the
// command failed or wrote to stderr, assumes true (CloudAI does the same).
bool gpu_directives_from_config(const CommandResult& scontrol_show_config);

// Whether --gpus-per-node/--gres may be used: system.supports_gpu_directives when set, else
// probed with one `scontrol show config`.
bool probe_gpu_directives(const System& system);
bool probe_gpu_directives(const System& system, CommandRunner& runner);

// The job-completion log file when JobCompType is jobcomp/filetxt, else nullopt.
std::optional<std::filesystem::path> job_completion_log(std::string_view scontrol_config);

}  // namespace bp
