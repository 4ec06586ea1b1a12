// Slurm's job states and how benchpilot reads them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/executor.h"

namespace bp {

// Maps a state as squeue, sacct, scontrol or the job-completion log print it to a JobState.
// Accepts "CANCELLED by 0", sacct's truncated "CANCELLED+", any case, and both long and short
// names (CD, F, CA, TO, OOM, NF, PR, BF, DL, PD, R, RQ, CG, ...). `known` (when given) is set to
// false for a state Slurm does not define; such a state maps to kRunning, so the job keeps
// being watched instead of being declared finished on a guess.
JobState job_state_from_slurm(std::string_view text, bool* known = nullptr);

// The long names of the states in which a job may still run (it maps to kPending, kRunning or
// kCompleting), in table order: Scheduler::live_job_states().
std::vector<std::string> live_slurm_state_names();

// One job's status as a Slurm command reported it.
struct SlurmJobStatus {
  std::string id;
  std::string state_text;  // as printed, e.g. "CANCELLED by 0"
  JobState state = JobState::kUnknown;
  std::string exit_code;  // "code:signal" when the source has it
  std::string reason;     // Slurm's reason ("NonZeroExitCode", "TimeLimit"); "None" is dropped
};

// The explanation stored in Job::reason: "exit 3", "CANCELLED by 0", "signal 9, TimeLimit";
// empty for a job that completed normally.
std::string describe_outcome(const SlurmJobStatus& status);

// The attempt record of a finished job: its id, state, exit code and signal.
JobAttempt attempt_of(const SlurmJobStatus& status);

}  // namespace bp
