// slurm-job.toml: what Slurm recorded about a finished job (CloudAI's SlurmJobMetadata, plus
// node_list, reason and the source of the data).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/value.h"
#include "systems/slurm/slurm_output.h"

namespace bp {

// What benchpilot itself knows about the job; fills gaps in Slurm's records.
struct JobFacts {
  std::string job_id;
  std::string name;
  std::string state;   // JobState name, used when Slurm has no record
  std::string reason;  // Job::reason
  std::filesystem::path run_dir;
  std::string submit_line;  // what benchpilot ran to submit
  std::string command;      // the workload's command (never holds secrets)
};

// Keys: job_id, name, state, exit_code ("code:signal"), start_time, end_time,
// elapsed_time_sec, node_list, submit_line, command, reason, job_root, is_single_sbatch,
// source ("sacct", "scontrol" or "benchpilot"), and [[job_steps]] (sacct only: step_id, name,
// state, exit_code, start_time, end_time, elapsed_time_sec, node_list).
// From sacct rows (the job's row first, then its steps); falls back to facts for empty fields.
Value job_metadata_from_sacct(const std::vector<SacctRow>& rows, const JobFacts& facts);
// From `scontrol show job` key/values.
Value job_metadata_from_scontrol(const std::map<std::string, std::string>& kv,
                                 const JobFacts& facts);
// When Slurm has nothing (any more): what benchpilot saw.
Value job_metadata_from_facts(const JobFacts& facts);

}  // namespace bp
