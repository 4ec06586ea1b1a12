// The bash wrapper that runs the Megatron-Bridge launcher on the submit node and reports the
// Slurm job it submits, plus the fixed names of the files a run leaves in its directory.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/system.h"

namespace bp::mbridge {

// Run-directory files (the metrics/report code reads the same names).
inline constexpr std::string_view kWrapperFile = "mbridge-launcher.sh";
inline constexpr std::string_view kCommandFile = "command.sh";
inline constexpr std::string_view kLauncherLog = "launcher.log";  // pip + launcher + training
inline constexpr std::string_view kWrapperStdout = "wrapper.stdout";
inline constexpr std::string_view kWrapperStderr = "wrapper.stderr";

struct WrapperInputs {
  std::filesystem::path run_dir;  // absolute
  std::string launcher_command;   // from launcher_command()
  // Interpreter of the NeMo-Run venv: `pip install wandb numpy==1.26.4` runs with it first.
  // Empty with a python override (no internet needed).
  std::string pip_python;
  // Container-runtime variables (MELLANOX_/NVIDIA_VISIBLE_DEVICES, NVIDIA_DRIVER_CAPABILITIES)
  // exported before the launcher so the sbatch it runs inherits them.
  EnvVars runtime_exports;
  // Lines run before the launcher (after the log is started): the pre-test gate (nccl_gate.h).
  std::string pre_launch;
};

// The variables runtime_exports takes from the final env, in this order when present.
bool is_container_runtime_var(std::string_view name);

// The wrapper's text. It expects HF_TOKEN (and WANDB_API_KEY when -wdk is used) in its
// environment, masks both in the launcher log, prints "Submitted batch job <id>" as soon as the
// launcher's output names the job, forwards SIGTERM/SIGINT to the launcher, and exits 1 with
// "Failed to retrieve job ID." when the launcher never names a job.
std::string wrapper_script(const WrapperInputs& in);

// Writes <run_dir>/mbridge-launcher.sh (executable) and <run_dir>/command.sh; returns the
// command to run: "bash <abs wrapper path>".
std::string write_wrapper_files(const WrapperInputs& in);

}  // namespace bp::mbridge
