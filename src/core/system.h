// The system a scenario runs on, as described by a system TOML (CloudAI format).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/value.h"

namespace bp {

struct NodeGroup {
  std::string name;
  std::vector<std::string> nodes;  // Slurm range strings as written, e.g. "node-[001-025]"
};

struct Partition {
  std::string name;
  std::vector<NodeGroup> groups;
};

using EnvVars = std::vector<std::pair<std::string, std::string>>;

struct System {
  std::string name;
  std::string scheduler;  // "slurm" or "standalone"
  std::filesystem::path install_path;
  std::filesystem::path output_path;
  std::filesystem::path hf_home_path;  // default install_path/huggingface
  EnvVars global_env_vars;             // in file order
  int monitor_interval = 1;            // seconds

  // Slurm only (CloudAI's SlurmSystem fields).
  std::string default_partition;
  std::vector<Partition> partitions;
  std::string account;
  std::string distribution;
  std::string mpi = "pmix";
  std::optional<int> gpus_per_node;
  std::optional<int> ntasks_per_node;
  bool cache_docker_images_locally = false;
  std::string extra_srun_args;
  std::vector<std::string> extra_sbatch_args;
  std::vector<std::string> extra_transient_status_errors;
  int status_retry_pause_seconds = 10;
  bool container_mount_home = false;
  Value data_repository;  // table or none
  Value reports;          // table or none

  // benchpilot extensions (documented in README "System TOML"):
  // Keys the workloads declare for the system TOML (Workload::system_keys), as written (one-line
  // strings), e.g. the interpreter a workload's launcher runs with.
  std::map<std::string, std::string> workload_settings;
  // Whether the cluster accepts --gpus-per-node/--gres. Unset = probe `scontrol show config`.
  std::optional<bool> supports_gpu_directives;

  SourceLoc loc;  // the file
};

}  // namespace bp
