// The setup_experiment.py command line for one run, built exactly as CloudAI builds it
// (cloudai.md §4.4): flag order, the "set vs forced" rule, list and boolean formatting, env vars
// as `-cb 'export K=V'`, Slurm parameters and Hydra overrides.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/scenario.h"
#include "core/system.h"

namespace bp::mbridge {

// Where things are for this run, resolved by the caller (workload.cc).
struct LauncherInputs {
  std::filesystem::path run_dir;            // absolute; NEMORUN_HOME
  std::filesystem::path python;             // interpreter that runs the launcher
  std::filesystem::path mbridge_dir;        // absolute Megatron-Bridge clone
  std::vector<std::string> resolved_nodes;  // explicit nodes of this run (may be empty)
  bool gpu_directives_supported = true;
  // Chain the training job after the pre-test gate (nccl_gate.h): --additional_slurm_params
  // gets dependency=afterok:$PRE_HOOK_JOB_ID and, without explicit nodes, nodelist=$PRE_HOOK_NODES.
  bool after_pre_hook = false;
  // The campaign's job comment (run mode only): --additional_slurm_params gets comment=<it> first,
  // so a comment the user sets in extra_srun_args still wins. Skipped unless it is made of
  // letters, digits and ._-:/ (the launcher splits the parameters on ';' and blanks).
  std::string job_comment;
};

// The launcher's arguments (after setup_experiment.py), each already a shell word: quoted where
// CloudAI quotes (`'export K=V'`, `--recompute_modules "a,b"`). The HF token and W&B key appear
// only as "$HF_TOKEN" / "$WANDB_API_KEY". `run.test.cmd_args` holds this point's values.
// Throws ConfigError for values that cannot be passed (a list for nsys_trace, blank model names).
std::vector<std::string> launcher_arguments(const TestRun& run, const System& system,
                                            const LauncherInputs& in);

// <clone>/scripts/performance/setup_experiment.py
std::filesystem::path launcher_script(const LauncherInputs& in);

// `NEMORUN_HOME="<run dir>" <python> <clone>/scripts/performance/setup_experiment.py <args>`.
std::string launcher_command(const TestRun& run, const System& system, const LauncherInputs& in);

// System global_env_vars overlaid by the test's extra_env_vars, sorted by name.
EnvVars final_env_vars(const TestDefinition& test, const System& system);

// CloudAI's _parse_srun_args_as_slurm_params: "--k v" and "--k=v" -> "k=v", "--flag" -> "flag".
// CloudAI drops any other word ("--exclusive $(touch x)" would become "exclusive=$(touch"):
// throws ValueError naming the first word the conversion would drop.
std::vector<std::string> srun_args_as_slurm_params(std::string_view srun_args);

// srun_args_as_slurm_params of the system's extra_srun_args (refused in the workload's
// preflight, before anything is written) or of a case's (refused when its files are generated,
// before anything is submitted), as a ConfigError naming the file, the key and the word.
std::vector<std::string> system_slurm_params(const System& system);
std::vector<std::string> case_slurm_params(const TestRun& run);
void check_system_srun_args(const System& system);

// The items of --additional_slurm_params, in order: the campaign's comment, gpus-per-node/gres,
// nodelist or exclude, then the system's and the case's extra_srun_args.
std::vector<std::string> additional_slurm_params(const TestRun& run, const System& system,
                                                 const LauncherInputs& in);

// The Hydra overrides: CloudAI's tensorboard defaults, replaced in place or extended by the
// test's extra_cmd_args. Each item is `key=value` (or `key` for an empty value), unquoted.
std::vector<std::string> hydra_overrides(const TestDefinition& test);

}  // namespace bp::mbridge
