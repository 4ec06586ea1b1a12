#include "systems/slurm/slurm_state.h"

#include <array>
#include <utility>

#include "util/strings.h"

namespace bp {

namespace {

struct StateName {
  std::string_view long_name;
  std::string_view short_name;
  JobState state;
};

// Every base state and state flag squeue/sacct print (Slurm 17.11 .. 24.x): the one place that
// says which states are live. Megatron-Bridge's gate script keeps a bash copy of the pending,
// running and completing names (it runs in the job); its test compares that copy with
// live_slurm_state_names(). Held or requeued jobs will run again, so they read as pending;
// SPECIAL_EXIT is a held job whose run failed.
constexpr std::array<StateName, 30> kStates = {{
    {"PENDING", "PD", JobState::kPending},
    {"REQUEUED", "RQ", JobState::kPending},
    {"REQUEUE_FED", "RF", JobState::kPending},
    {"REQUEUE_HOLD", "RH", JobState::kPending},
    {"RESV_DEL_HOLD", "RD", JobState::kPending},
    {"CONFIGURING", "CF", JobState::kPending},
    {"POWER_UP_NODE", "PU", JobState::kPending},
    {"RUNNING", "R", JobState::kRunning},
    {"SUSPENDED", "S", JobState::kRunning},
    {"STOPPED", "ST", JobState::kRunning},
    {"SIGNALING", "SI", JobState::kRunning},
    {"RESIZING", "RS", JobState::kRunning},
    {"UPDATE_DB", "UD", JobState::kRunning},
    {"COMPLETING", "CG", JobState::kCompleting},
    {"STAGE_OUT", "SO", JobState::kCompleting},
    {"COMPLETED", "CD", JobState::kCompleted},
    {"FAILED", "F", JobState::kFailed},
    {"SPECIAL_EXIT", "SE", JobState::kFailed},
    {"LAUNCH_FAILED", "LF", JobState::kFailed},
    {"CANCELLED", "CA", JobState::kCancelled},
    {"REVOKED", "RV", JobState::kCancelled},
    {"TIMEOUT", "TO", JobState::kTimeout},
    {"OUT_OF_MEMORY", "OOM", JobState::kOutOfMemory},
    {"NODE_FAIL", "NF", JobState::kNodeFail},
    {"PREEMPTED", "PR", JobState::kPreempted},
    {"BOOT_FAIL", "BF", JobState::kBootFail},
    {"DEADLINE", "DL", JobState::kDeadline},
    // Old spellings some versions print.
    {"CANCELED", "", JobState::kCancelled},
    {"NODE_FAILURE", "", JobState::kNodeFail},
    {"OOM", "", JobState::kOutOfMemory},
}};

std::pair<int, int> split_exit_code(std::string_view text) {
  auto parts = split(trim(text), ':');
  auto num = [](const std::string& s) {
    try {
      return s.empty() ? 0 : std::stoi(s);
    } catch (...) {
      return 0;
    }
  };
  return {num(parts[0]), parts.size() > 1 ? num(parts[1]) : 0};
}

}  // namespace

JobState job_state_from_slurm(std::string_view text, bool* known) {
  std::string_view t = trim(text);
  t = t.substr(0, t.find(' '));                              // "CANCELLED by 0"
  while (!t.empty() && t.back() == '+') t.remove_suffix(1);  // sacct truncation
  std::string upper(t);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const StateName& s : kStates) {
    if (upper == s.long_name || (!s.short_name.empty() && upper == s.short_name)) {
      if (known) *known = true;
      return s.state;
    }
  }
  if (known) *known = false;
  return JobState::kRunning;
}

std::vector<std::string> live_slurm_state_names() {
  std::vector<std::string> names;
  for (const StateName& s : kStates)
    if (s.state == JobState::kPending || s.state == JobState::kRunning ||
        s.state == JobState::kCompleting)
      names.emplace_back(s.long_name);
  return names;
}

JobAttempt attempt_of(const SlurmJobStatus& status) {
  JobAttempt a;
  a.id = status.id;
  a.state = status.state;
  if (!trim(status.exit_code).empty()) {
    auto [code, signal] = split_exit_code(status.exit_code);
    a.exit_code = code;
    a.signal = signal;
  }
  return a;
}

std::string describe_outcome(const SlurmJobStatus& status) {
  if (status.state == JobState::kCompleted) return "";
  std::vector<std::string> parts;
  std::string_view text = trim(status.state_text);
  if (text.size() > 10 && text.substr(0, 10) == "CANCELLED ") parts.emplace_back(text);
  if (!status.exit_code.empty()) {
    auto [code, signal] = split_exit_code(status.exit_code);
    // Only a failed job's signal is its own; cancel, timeout and OOM kills are Slurm's.
    if (status.state == JobState::kFailed)
      parts.push_back(signal != 0 ? "signal " + std::to_string(signal)
                                  : "exit " + std::to_string(code));
    else if (code != 0)
      parts.push_back("exit " + std::to_string(code));
  }
  if (!status.reason.empty() && status.reason != "None" && status.reason != "NonZeroExitCode")
    parts.push_back(status.reason);
  if (parts.empty() && status.state != JobState::kUnknown)
    parts.emplace_back(to_string(status.state));
  return join(parts, ", ");
}

}  // namespace bp
