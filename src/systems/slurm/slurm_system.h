// What a Slurm system TOML says that only the Slurm scheduler reads (CloudAI's SlurmSystem
// fields beyond System's generic ones).
#pragma once

#include <string>
#include <vector>

#include "config/value.h"
#include "core/system.h"

namespace bp {

struct NodeGroup {
  std::string name;
  std::vector<std::string> nodes;  // Slurm range strings as written, e.g. "node-[001-025]"
};

struct Partition {
  std::string name;
  std::vector<NodeGroup> groups;
};

struct SlurmSettings : SchedulerSettings {
  std::vector<Partition> partitions;
  std::vector<std::string> extra_transient_status_errors;
  int status_retry_pause_seconds = 10;
  Value data_repository;  // table or none
  Value reports;          // table or none
};

// The system's Slurm settings; the defaults when it has none (a System built in code).
const SlurmSettings& slurm_settings(const System& system);
// The same, to change (tests, code-built systems): copies them first when another System
// shares them.
SlurmSettings& slurm_settings(System& system);

}  // namespace bp
