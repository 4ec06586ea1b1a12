// The system a scenario runs on, as described by a system TOML (CloudAI format).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/value.h"

namespace bp {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// What only one scheduler understands (Slurm's partitions and status-retry policy). Its row
// (core/scheduler.h) reads it from the system TOML and only its folder looks inside.
struct SchedulerSettings {
  virtual ~SchedulerSettings() = default;
};

struct System {
  std::string name;
  std::string scheduler;  // the name of a row of src/systems/registry.cc
  std::filesystem::path install_path;
  std::filesystem::path output_path;
  std::filesystem::path hf_home_path;  // default install_path/huggingface
  EnvVars global_env_vars;             // in file order
  int monitor_interval = 1;            // seconds; the scheduler's row sets its default

  // Where batch jobs go and how they are launched, with CloudAI's SlurmSystem names. Generic:
  // workloads that write their own batch scripts or launcher flags read them. A scheduler
  // that has no such notion accepts none of these keys and leaves them empty.
  std::string default_partition;
  std::string account;
  std::string distribution;
  std::string mpi = "pmix";
  std::optional<int> gpus_per_node;
  std::optional<int> ntasks_per_node;
  bool cache_docker_images_locally = false;
  std::string extra_srun_args;
  std::vector<std::string> extra_sbatch_args;
  bool container_mount_home = false;

  // benchpilot extensions (documented in README "System TOML"):
  // Keys the workloads declare for the system TOML (Workload::system_keys), as written (one-line
  // strings), e.g. the interpreter a workload's launcher runs with.
  std::map<std::string, std::string> workload_settings;
  // Whether the cluster accepts --gpus-per-node/--gres. Unset in the TOML: the scheduler's
  // probe (core/scheduler.h) fills it in once before anything is submitted.
  std::optional<bool> supports_gpu_directives;
  // Usable memory of one GPU in GiB, for the memory estimate (rule E1); unset: the workload's
  // figure for its GPU type.
  std::optional<double> gpu_memory_gib;

  // The scheduler's own settings; null when it has none.
  std::shared_ptr<const SchedulerSettings> scheduler_settings;

  SourceLoc loc;  // the file
};

}  // namespace bp
