// Runs jobs as local background processes: the standalone system (no scheduler).
//
// Each job is `/bin/bash -c <command>` in its run dir, leader of its own process group, with
// our environment plus the spec's process_env; stdout/stderr go to stdout.txt/stderr.txt in the
// run dir. The job id is the pid. Exit 0 is COMPLETED; anything else FAILED with reason
// "exit N" or "signal N". When the job's main process ends, whatever it left running in its
// process group is killed. cancel() stops the group (SIGTERM, then SIGKILL after a grace).
// write_job_metadata() writes standalone-job.toml (see below).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "core/executor.h"
#include "core/job_record.h"
#include "util/subprocess.h"

namespace bp {

inline constexpr char kStandaloneJobFile[] = "standalone-job.toml";

class StandaloneExecutor : public Executor {
 public:
  explicit StandaloneExecutor(const System& system);
  // Stops jobs that are still running: nothing outlives benchpilot.
  ~StandaloneExecutor() override;

  Job submit(const JobRequest& req) override;
  void poll(std::vector<Job*>& active) override;
  void cancel(Job& job) override;
  // Writes <run_dir>/standalone-job.toml: job_id (the pid), name, state, reason, exit_code,
  // exit_signal, start_time, end_time (local ISO 8601), elapsed_time_sec and command. Read back
  // by read_standalone_job_record().
  void write_job_metadata(const Job& job) override;
  // 100 ms, doubling while nothing changes, up to the system's monitor_interval.
  std::chrono::milliseconds next_poll_interval(int quiet_rounds) const override;

 private:
  struct Process {
    pid_t pid = -1;
    std::string name;
    std::string command;
    std::chrono::system_clock::time_point started;
    std::chrono::system_clock::time_point ended;
    std::optional<ExitStatus> status;
    bool cancelled = false;
  };
  void finish(Process& p, Job& job, const ExitStatus& st);

  std::chrono::milliseconds max_interval_;
  std::map<int, Process> processes_;  // by job handle
  int next_handle_ = 1;
};

// <run_dir>/standalone-job.toml as a job record (its id, state, times and elapsed seconds),
// nullopt when there is none. No attempts: the file describes one process, and reports of
// folders written before the record was shared listed none for it.
std::optional<JobRecord> read_standalone_job_record(const std::filesystem::path& run_dir);

}  // namespace bp
