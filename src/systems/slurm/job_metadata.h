// slurm-job.toml: what Slurm recorded about a finished job (CloudAI's SlurmJobMetadata, plus
// node_list, reason, earlier attempts and the source of the data): written here, and read here
// for the rest of benchpilot (core/job_record.h, through the Slurm scheduler's registry row).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/value.h"
#include "core/executor.h"
#include "core/job_record.h"
#include "systems/slurm/slurm_output.h"

namespace bp {

inline constexpr char kSlurmJobFile[] = "slurm-job.toml";

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

// A launcher's retry: the document describes the last attempt, [[earlier_attempts]] (job_id,
// state, exit_code and signal when known) the ones before it, oldest first.
void add_earlier_attempts(Value& doc, const std::vector<JobAttempt>& earlier);

// <run_dir>/slurm-job.toml as a job record, nullopt when there is none. Its attempts: the
// earlier attempts, then the job itself (exit_code "code:signal" split).
std::optional<JobRecord> read_slurm_job_record(const std::filesystem::path& run_dir);

}  // namespace bp
