// The executor of `benchpilot dry-run`: submits nothing (as ninja's dry-run command runner).
//
// The engine runs a dry-run exactly as a run: it writes every run's files (the workload's
// scripts, test-run.toml) and hands each job here. This executor starts nothing, asks no
// scheduler, and returns each job already ended as NOT_SUBMITTED ("DRY-RUN" in the results),
// so the engine never waits; the engine records such a job without judging it.
#pragma once

#include <vector>

#include "core/executor.h"

namespace bp {

class DryRunExecutor : public Executor {
 public:
  Job submit(const JobRequest& req) override;
  void poll(std::vector<Job*>& active) override;  // nothing runs: nothing changes
  void cancel(Job& job) override;                 // nothing to stop
  std::chrono::milliseconds next_poll_interval(int quiet_rounds) const override;

  // What was handed over, in order (for tests and for counting).
  const std::vector<JobRequest>& requests() const { return requests_; }

 private:
  std::vector<JobRequest> requests_;
  int next_handle_ = 1;
};

}  // namespace bp
