// The interface between the scenario engine and a system's scheduler (Slurm, or jobs run on
// this machine).
//
// The engine decides what runs when (dependencies, iterations, sweep points, in-flight
// limits); an Executor starts jobs, watches them with as few scheduler calls as possible, and
// cancels them. All calls come from one thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/system.h"
#include "core/workload.h"

namespace bp {

// One job to start.
struct JobRequest {
  std::string name;               // for the scheduler: "<case>_<iteration>[_<step>]"
  std::filesystem::path run_dir;  // absolute; holds the generated files
  RunSpec spec;                   // from Workload::prepare
  int num_nodes = 1;
  std::vector<std::string> nodes;  // explicit node list (may be empty)
  std::vector<std::string> exclude_nodes;
  std::optional<std::string> time_limit;  // normalized HH:MM:SS / D-HH:MM:SS
  std::string extra_srun_args;            // the case's
  // Carried by the job (Slurm: --comment) so a job whose id was never recorded can be found
  // again: "benchpilot:<campaign>:<point>". A self-submitting launcher gets it from the workload
  // (RunContext::job_comment; Megatron-Bridge: --additional_slurm_params).
  std::string comment;
};

enum class JobState {
  kPending,
  kRunning,
  kCompleting,
  kCompleted,
  kFailed,
  kCancelled,
  kTimeout,
  kOutOfMemory,
  kNodeFail,
  kPreempted,
  kBootFail,
  kDeadline,
  kUnknown,  // the scheduler no longer knows the job and no record says how it ended
  // Never handed to a scheduler: its files were generated and nothing else (dry-run's
  // executor, core/dry_run_executor.h). Printed as "DRY-RUN"; such a run is neither passed nor
  // failed.
  kNotSubmitted,
};

bool is_terminal(JobState s);
std::string_view to_string(JobState s);

// One scheduler job of a run. A launcher that retries (Megatron-Bridge's --max_retries)
// submits a new job per attempt.
struct JobAttempt {
  std::string id;
  JobState state = JobState::kUnknown;
  std::optional<int> exit_code;  // the job's exit code, when the scheduler reported one
  int signal = 0;                // the signal that ended it, 0 if none
};

// A job that was started.
struct Job {
  int handle = 0;  // engine-side identity, unique per executor
  std::string id;  // scheduler id of the current (last) attempt (Slurm job id, or pid)
  JobState state = JobState::kPending;  // of the current attempt: the verdict's
  std::string reason;  // scheduler's explanation for failures ("CANCELLED by 0", "exit 1")
  std::optional<int> exit_code;  // of the current attempt, when known
  int signal = 0;
  std::filesystem::path run_dir;
  std::vector<JobAttempt> earlier_attempts;  // attempts before the current one, oldest first
};

// Every attempt of a job, the current one last (none when no id was ever known).
std::vector<JobAttempt> all_attempts(const Job& job);

class Executor {
 public:
  virtual ~Executor() = default;

  // Starts a job. Must not block for the job's duration (Megatron-Bridge wrappers block until
  // training ends: run them in the background). Returns the handle; on a submission failure
  // the job is returned already in kFailed with the reason.
  virtual Job submit(const JobRequest& req) = 0;

  // One monitoring round over all active jobs; updates their states in place. Implementations
  // issue a bounded number of scheduler calls per round, independent of the job count.
  virtual void poll(std::vector<Job*>& active) = 0;

  // Cancels a job (scancel / kill). Safe to call on finished jobs.
  virtual void cancel(Job& job) = 0;

  // Writes the scheduler's job record (Scheduler::job_record_file) into the job's run dir
  // once it ended.
  virtual void write_job_metadata(const Job& job) { (void)job; }

  // How long to wait before the next poll, given how long the jobs have been quiet.
  virtual std::chrono::milliseconds next_poll_interval(int quiet_rounds) const = 0;

  // Resume support. Watches a job an earlier benchpilot submitted, as if submit() had returned
  // it; `submitter_pid`/`submitter_start` name that session's self-submitting wrapper, which
  // may still be relaying the log. Systems that cannot re-attach return the job UNKNOWN.
  virtual Job attach(const JobRequest& req, bool self_submitting, const std::string& job_id,
                     int submitter_pid, unsigned long long submitter_start) {
    (void)self_submitting;
    (void)submitter_pid;
    (void)submitter_start;
    Job job;
    job.id = job_id;
    job.run_dir = req.run_dir;
    job.state = JobState::kUnknown;
    job.reason = "this system cannot re-attach to a job of an earlier session";
    return job;
  }
  // The id of a job carrying `comment`, submitted from run_dir or logging below it (or printed
  // into run_dir by its wrapper), if any.
  virtual std::optional<std::string> find_lost_job(const std::string& comment,
                                                   const std::filesystem::path& run_dir) {
    (void)comment;
    (void)run_dir;
    return std::nullopt;
  }
  // The process submitting `job` on our behalf (a self-submitting wrapper), or 0.
  virtual int submitter_pid(const Job& job) const {
    (void)job;
    return 0;
  }
  // From now on, leave jobs and wrappers running when this executor goes away (SIGHUP).
  virtual void detach() {}
  // Non-empty once the scheduler stayed unreachable past the retry bound: the engine then
  // stops as on SIGHUP (jobs left as they are, journal resumable) and reports this cause.
  virtual std::string lost_scheduler() const { return {}; }
};

// The executor of the system's scheduler (core/scheduler.h). Throws ValueError
// naming the known schedulers.
std::unique_ptr<Executor> make_executor(const System& system);

}  // namespace bp
