#include "core/dry_run_executor.h"

namespace bp {

Job DryRunExecutor::submit(const JobRequest& req) {
  requests_.push_back(req);
  Job job;
  job.handle = next_handle_++;
  job.run_dir = req.run_dir;
  job.state = JobState::kNotSubmitted;
  return job;
}

void DryRunExecutor::poll(std::vector<Job*>& active) {
  (void)active;
}

void DryRunExecutor::cancel(Job& job) {
  (void)job;
}

std::chrono::milliseconds DryRunExecutor::next_poll_interval(int quiet_rounds) const {
  (void)quiet_rounds;
  return std::chrono::milliseconds(0);
}

}  // namespace bp
