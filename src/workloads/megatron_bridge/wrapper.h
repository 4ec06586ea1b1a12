// The bash wrapper that runs the Megatron-Bridge launcher on the submit node and reports every
// Slurm job it submits, plus the fixed names of the files a run leaves in its directory.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/system.h"
#include "util/error.h"

namespace bp::mbridge {

// Run-directory files (the metrics/report code reads the same names).
inline constexpr std::string_view kWrapperFile = "mbridge-launcher.sh";
inline constexpr std::string_view kHelperFile = "mbridge-launch.py";  // the wrapper's Python half
inline constexpr std::string_view kCommandFile = "command.sh";
inline constexpr std::string_view kLauncherLog = "launcher.log";  // pip + launcher + training
inline constexpr std::string_view kWrapperStdout = "wrapper.stdout";
inline constexpr std::string_view kWrapperStderr = "wrapper.stderr";

// What replaces a secret in the launcher log and in the files the launcher wrote.
inline constexpr std::string_view kSecretMask = "[hidden]";
// Shorter values are not treated as secrets: masking "1" would rewrite every step time in the
// log, and refusing it would reject `tp = 1`. Real HF tokens and W&B keys are 37-40 characters.
inline constexpr size_t kMinSecretLength = 4;

// A launcher flag whose value is a secret, and the environment variable that holds it. The
// launcher arguments carry the value as the word "$VAR"; the wrapper never expands it on a
// command line (see wrapper_script).
struct SecretFlag {
  std::string_view flag;
  std::string_view env_var;
};
inline constexpr SecretFlag kSecretFlags[] = {{"-hf", "HF_TOKEN"}, {"-wdk", "WANDB_API_KEY"}};

// The shell word that stands for a secret flag's value in the launcher arguments.
std::string secret_reference(const SecretFlag& f);

struct WrapperInputs {
  std::filesystem::path run_dir;                // absolute
  std::string python;                           // the launcher's interpreter; also runs the helper
  std::filesystem::path launcher_script;        // setup_experiment.py
  std::vector<std::string> launcher_arguments;  // shell words, from launcher_arguments()
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

// The wrapper's text. Secret flags (kSecretFlags followed by their reference word) are taken
// out of the launcher's arguments; the helper appends them from the environment inside the
// launcher's own Python process, so no process's command line ever holds a secret. The
// wrapper refuses to start when a needed variable is unset, prints "Submitted batch job <id>"
// for every job the launcher's output names (a launcher retry submits a new one), masks the
// secrets in the launcher log as it is written and in the files the launcher wrote under
// NEMORUN_HOME/experiments (temp file + rename; its own files are never touched), forwards
// SIGTERM/SIGINT to the launcher, and exits 1 with "Failed to retrieve job ID." when the
// launcher never names a job. Throws ValueError when a secret flag is followed by
// anything but its reference (the value would reach a command line).
std::string wrapper_script(const WrapperInputs& in);

// The helper's text (Python 3, standard library only): `launch`, `relay` and `scrub`.
std::string helper_script();

// Writes <run_dir>/mbridge-launcher.sh (executable), <run_dir>/mbridge-launch.py and
// <run_dir>/command.sh; returns the command to run: "bash <abs wrapper path>".
std::string write_wrapper_files(const WrapperInputs& in);

}  // namespace bp::mbridge
