// Runs jobs on a Slurm cluster.
//
// Submission: workloads that submit themselves (Megatron-Bridge's launcher wrapper) run as
// `/bin/bash -c <command>` in the background, leader of their own process group, with
// stdout/stderr in submit.stdout/submit.stderr of the run dir; the job id is read from the
// "Submitted batch job N" lines the wrapper prints. A launcher that retries submits a new job
// per attempt: each new id becomes the job's current attempt (the verdict's), the previous one
// is kept in Job::earlier_attempts, and its final state is learned within the same per-round
// scheduler calls. Other workloads get sbatch.sh in the run
// dir, submitted with `sbatch --parsable`. Either way the spec's process_env reaches the job
// through the environment, never a file or a command line.
//
// Monitoring costs at most two scheduler calls per round whatever the number of jobs: one
// `squeue` for every watched job, and, for jobs that finished or left squeue, one `sacct` when
// accounting works (else the job-completion log file, read without any scheduler call).
// `scontrol show job` is not polled: while slurmctld still knows a finished job (MinJobAge),
// `squeue --states=all` returns the same record; scontrol serves slurm-job.toml when sacct
// has nothing.
// Transient errors are retried with exponential backoff; a job whose state cannot be learned
// for several rounds, or that no source knows any more, ends as UNKNOWN instead of being
// polled forever or aborting the run.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/executor.h"
#include "systems/slurm/command_runner.h"
#include "systems/slurm/finished_jobs.h"
#include "systems/slurm/growing_file.h"
#include "systems/slurm/slurm_commands.h"
#include "systems/slurm/slurm_output.h"
#include "systems/slurm/slurm_state.h"
#include "systems/slurm/slurm_system.h"
#include "systems/slurm/submission_wrapper.h"

namespace bp {

struct SlurmExecutorOptions {
  // First pause after a transient error; unset = system.status_retry_pause_seconds.
  std::optional<std::chrono::milliseconds> retry_pause;
  std::chrono::milliseconds max_retry_pause{60000};
  int retry_attempts = 3;  // per scheduler call, first try included
  // Consecutive rounds whose status query failed before a job becomes UNKNOWN.
  int max_failed_rounds = 3;
  // How long a job may be unknown to squeue, sacct and the completion log before it is UNKNOWN.
  std::chrono::milliseconds unknown_grace{60000};
  // How long to wait for accounting to record a job squeue already shows finished (for its exit
  // code and "CANCELLED by N"); after that squeue's word is taken.
  std::chrono::milliseconds accounting_lag{5000};
  // After Slurm says a self-submitted job ended, how long its wrapper may keep running (it
  // relays the training log) before it is killed.
  std::chrono::milliseconds wrapper_grace{120000};
  std::chrono::milliseconds cancel_grace{2000};  // SIGTERM to SIGKILL for wrappers
  std::chrono::milliseconds command_timeout{60000};
  std::chrono::milliseconds first_poll_interval{500};
};

class SlurmExecutor : public Executor {
 public:
  // `runner` defaults to the real one; tests pass a FakeCommandRunner.
  explicit SlurmExecutor(const System& system, SlurmExecutorOptions options = {},
                         std::shared_ptr<CommandRunner> runner = nullptr);
  // Stops wrappers that still run (their Slurm jobs are left to the engine's cancel()).
  ~SlurmExecutor() override;

  Job submit(const JobRequest& req) override;
  void poll(std::vector<Job*>& active) override;
  // scancel, and for self-submitting jobs kill the wrapper's process group first (then look
  // once more for an id it printed, so no job is left behind).
  void cancel(Job& job) override;
  // slurm-job.toml from sacct, else `scontrol show job`, else what benchpilot saw, about the
  // last attempt; earlier attempts of a retrying launcher are listed in [[earlier_attempts]]
  // (job_id, state, exit_code, signal).
  void write_job_metadata(const Job& job) override;
  // first_poll_interval, doubling while nothing changes, up to system.monitor_interval.
  std::chrono::milliseconds next_poll_interval(int quiet_rounds) const override;
  // Resume: watch a job of an earlier session; an orphaned wrapper still relaying its log is
  // waited for (up to wrapper_grace) once the job ended. For a self-submitted job the wrapper's
  // submit.stdout is followed: the newest id printed there is the current attempt, the ones
  // before it earlier attempts, and an id the wrapper prints later (a launcher retry) becomes
  // the next attempt, as in the session that started it.
  Job attach(const JobRequest& req, bool self_submitting, const std::string& job_id,
             int submitter_pid, unsigned long long submitter_start) override;
  // One `squeue --states=all` (+ `sacct` when nothing matched and accounting works): a job with
  // this comment, this run dir as WorkDir or its StdOut below it; then the wrapper's
  // submit.stdout.
  std::optional<std::string> find_lost_job(const std::string& comment,
                                           const std::filesystem::path& run_dir) override;
  int submitter_pid(const Job& job) const override;
  void detach() override { detached_ = true; }
  // Set when squeue failed transiently (controller down) for max_failed_rounds rounds.
  std::string lost_scheduler() const override { return lost_scheduler_; }

  const SchedulerCallStats& call_stats() const { return commands_.stats(); }
  // Whether sacct works; nullopt until it was first needed.
  std::optional<bool> accounting() const { return finished_.accounting(); }
  // Whether GPU directives go into sbatch scripts: the system's answer (Scheduler::probe), else
  // learned from `scontrol show config` on first need (one call, shared with the job-completion
  // log lookup).
  bool gpu_directives_usable();

 private:
  // What the executor watches of one submitted job (by Job::handle).
  struct SlurmJobWatch {
    std::string name;
    std::filesystem::path run_dir;
    bool self_submitting = false;
    std::string submit_line;
    std::string command;
    // Self-submitting, or re-attached to such a job: its wrapper and what it printed.
    WrapperWatch wrapper;
    // Earlier attempts whose end Slurm has not told yet (the launcher retried between polls).
    std::vector<std::string> unresolved_ids;
    // Monitoring.
    bool slurm_done = false;
    SlurmJobStatus final_status;
    std::chrono::steady_clock::time_point slurm_done_at{};
    std::optional<std::chrono::steady_clock::time_point> missing_since;
    std::optional<std::chrono::steady_clock::time_point> awaiting_accounting_since;
    int failed_rounds = 0;
    bool concluded = false;  // the Job was given its terminal state
  };

  Job submit_batch(const JobRequest& req, Job job, SlurmJobWatch& t);
  // The newest job in squeue carrying `comment` that was not cancelled (after a failed sbatch).
  std::optional<std::string> queued_job_with_comment(const std::string& comment);
  Job submit_wrapper(const JobRequest& req, Job job, SlurmJobWatch& t);
  void check_wrapper(Job& job, SlurmJobWatch& t);
  std::vector<std::string> scan_wrapper_output(SlurmJobWatch& t, LastLine last);
  // Follows the ids the wrapper printed since the last look; true when a new attempt began.
  bool take_new_job_ids(Job& job, SlurmJobWatch& t, LastLine last);
  void start_next_attempt(Job& job, SlurmJobWatch& t, const std::string& id);
  // `earlier`: unresolved earlier attempts (job, id), asked in the same calls.
  void query_slurm(const std::vector<Job*>& jobs,
                   const std::vector<std::pair<Job*, std::string>>& earlier);
  // A round whose squeue failed: after max_failed_rounds, a job whose state cannot be learned is
  // UNKNOWN, or (a controller that does not answer) the run stops resumable (lost_scheduler).
  void count_failed_query(const std::vector<Job*>& jobs, const CommandResult& r);
  // One job against what squeue (`queued`) and accounting or the completion log (`record`) say
  // of it; either may be null. Once Slurm is done with it, conclude_if_ended.
  void reconcile(Job& job, SlurmJobWatch& t, const SlurmJobStatus* queued,
                 const SlurmJobStatus* record, std::chrono::steady_clock::time_point now);
  void resolve_earlier(const std::vector<std::pair<Job*, std::string>>& earlier,
                       const std::map<std::string, SlurmJobStatus>& in_queue,
                       const std::map<std::string, SlurmJobStatus>& records);
  void give_up(Job& job, SlurmJobWatch& t, const std::string& why);
  // Once Slurm says the job ended: gives the Job its terminal state, unless its wrapper still
  // relays the log, the launcher retried (a next attempt) or an earlier attempt is unresolved.
  void conclude_if_ended(Job& job, SlurmJobWatch& t);
  void stop_wrapper(SlurmJobWatch& t);
  const std::string& scontrol_config();
  CommandOptions command_options(const std::filesystem::path& cwd = {},
                                 const EnvVars& env = {}) const;

  System system_;
  SlurmExecutorOptions options_;
  std::shared_ptr<CommandRunner> runner_;
  RetryPolicy retry_policy_;
  SlurmCommands commands_;
  std::string lost_scheduler_;
  std::optional<std::chrono::steady_clock::time_point> unreachable_since_;
  std::map<int, SlurmJobWatch> watches_;  // by job handle
  int next_handle_ = 1;
  std::optional<bool> gpu_directives_;
  std::optional<std::string> scontrol_config_;
  FinishedJobSource finished_;
  std::set<std::string> warned_states_;
  bool detached_ = false;
};

}  // namespace bp
