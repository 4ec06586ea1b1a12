// The job-state vocabulary shared by all executors.
#include "core/executor.h"

namespace bp {

bool is_terminal(JobState s) {
  switch (s) {
    case JobState::kPending:
    case JobState::kRunning:
    case JobState::kCompleting:
      return false;
    default:
      return true;
  }
}

std::string_view to_string(JobState s) {
  switch (s) {
    case JobState::kPending:
      return "PENDING";
    case JobState::kRunning:
      return "RUNNING";
    case JobState::kCompleting:
      return "COMPLETING";
    case JobState::kCompleted:
      return "COMPLETED";
    case JobState::kFailed:
      return "FAILED";
    case JobState::kCancelled:
      return "CANCELLED";
    case JobState::kTimeout:
      return "TIMEOUT";
    case JobState::kOutOfMemory:
      return "OUT_OF_MEMORY";
    case JobState::kNodeFail:
      return "NODE_FAIL";
    case JobState::kPreempted:
      return "PREEMPTED";
    case JobState::kBootFail:
      return "BOOT_FAIL";
    case JobState::kDeadline:
      return "DEADLINE";
    case JobState::kUnknown:
      return "UNKNOWN";
    case JobState::kNotSubmitted:
      return "DRY-RUN";
  }
  return "UNKNOWN";
}

std::vector<JobAttempt> all_attempts(const Job& job) {
  std::vector<JobAttempt> out = job.earlier_attempts;
  if (!job.id.empty()) out.push_back({job.id, job.state, job.exit_code, job.signal});
  return out;
}

}  // namespace bp
