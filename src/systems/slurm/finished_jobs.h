// Where the Slurm executor learns how finished jobs ended: sacct when accounting works (with
// `-D`, so a requeued job's earlier runs are seen), else the job-completion log, read without any
// scheduler call. Whether accounting works is learned here, once, for every caller.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/executor.h"
#include "systems/slurm/growing_file.h"
#include "systems/slurm/slurm_commands.h"
#include "systems/slurm/slurm_output.h"

namespace bp {

class FinishedJobSource {
 public:
  // `command_options` gives the options of each call; `scontrol_config` the cluster's config
  // (where the completion log is), asked only when accounting does not work.
  FinishedJobSource(SlurmCommands& commands, std::function<CommandOptions()> command_options,
                    std::function<const std::string&()> scontrol_config);

  // Only the completion-log lines of jobs benchpilot watches are kept.
  void watch(const std::string& id) { our_ids_.insert(id); }

  // What accounting (one sacct call) or the completion log knows of these jobs, by id. A job
  // accounting still shows running is included; the completion log has only finished jobs.
  std::map<std::string, SlurmJobStatus> records(const std::vector<std::string>& ids);

  // The sacct rows of a finished job, for slurm-job.toml: those records() saw, else one sacct
  // call; empty when accounting does not work.
  std::vector<SacctRow> rows_for(const std::string& id);

  // The earlier runs of a job Slurm requeued (node failure), oldest first; taken once.
  std::vector<JobAttempt> take_requeued_runs(const std::string& id);

  // Whether sacct works; nullopt until it was first needed.
  std::optional<bool> accounting() const { return accounting_; }
  // Whether a finished job's record is expected to come (from accounting or the completion
  // log), so that squeue's word may wait a little for it.
  bool records_expected() const { return accounting_.value_or(false) || jobcomp_path_.has_value(); }

 private:
  // Rows of `sacct -D`: the last run of each job (job row and steps); the earlier runs of a
  // requeued job go to requeued_runs_.
  std::vector<SacctRow> keep_last_runs(std::vector<SacctRow> rows);
  void read_job_completion_log();

  SlurmCommands& commands_;
  std::function<CommandOptions()> command_options_;
  std::function<const std::string&()> scontrol_config_;
  std::optional<bool> accounting_;
  std::map<std::string, std::vector<JobAttempt>> requeued_runs_;  // by job id, oldest first
  // sacct rows of finished jobs, kept from records() for rows_for(): no second sacct call.
  std::map<std::string, std::vector<SacctRow>> sacct_rows_;
  // Job-completion log (clusters without accounting): read incrementally.
  std::optional<std::filesystem::path> jobcomp_path_;
  bool jobcomp_checked_ = false;
  GrowingFile jobcomp_file_;
  std::map<std::string, SlurmJobStatus> jobcomp_records_;  // only watched ids
  std::set<std::string> our_ids_;
};

}  // namespace bp
