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

// The one rule, from the text of `scontrol show config`: true when a GresTypes line mentions gpu.
// nullopt (the command failed or warned) assumes true, as CloudAI does.
bool gpu_directives_in_config(std::optional<std::string_view> scontrol_config);
// The same from the command's result: failed or wrote to stderr = unknown.
bool gpu_directives_from_config(const CommandResult& scontrol_show_config);

// Whether --gpus-per-node/--gres may be used: system.supports_gpu_directives when set, else
// probed with one `scontrol show config` (Scheduler::probe, before `run` submits; the Slurm
// executor asks its cached config only when nobody probed).
bool probe_gpu_directives(const System& system);
bool probe_gpu_directives(const System& system, CommandRunner& runner);

// The job-completion log file when JobCompType is jobcomp/filetxt, else nullopt.
std::optional<std::filesystem::path> job_completion_log(std::string_view scontrol_config);

}  // namespace bp
