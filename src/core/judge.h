// The one verdict on a finished run, shared by `run` (the engine) and `generate-report`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/job_record.h"
#include "core/run_record.h"
#include "core/run_status.h"
#include "core/workload.h"

namespace bp {

// How the run's job ended, as the engine saw it (or as a results folder records it).
struct JobOutcome {
  std::string id;
  std::string state;  // "COMPLETED", "FAILED", ...; empty when nothing recorded it
  std::string reason;
  // Cancelled on purpose because the case it served ended (end_post_comp): not a failure.
  bool stopped_by_dependency = false;
};

struct Judgement {
  bool passed = false;
  bool skipped = false;  // never started on purpose (a failed pre-test); `message` says why
  std::string message;   // why it did not pass
};

// Passed = the job COMPLETED (or was stopped by its dependency, or no job state is known, as
// for results from elsewhere) and the workload's verdict passes. A run the engine never started
// (state "SKIPPED", the reason in `reason`) or whose verdict says it was skipped is skipped.
Judgement judge(const RunRead& read, const JobOutcome& job);

// A run folder judged from its files alone, as generate-report and index judge it: the recorded
// job outcome (read_job_outcome) through judge(). A folder with no usable job state (a killed
// run's, or a damaged record) is UNKNOWN and never passed; the message says why. `job_record`
// is the folder's scheduler record (read_job_record), read once by the caller that also wants
// its attempts or times.
struct FolderJudgement {
  std::string job_id;
  std::string state;  // the recorded job state, or "UNKNOWN"
  Judgement judgement;
};
FolderJudgement judge_run_folder(const RunRead& read, const std::filesystem::path& run_dir,
                                 const std::optional<JobRecord>& job_record);
FolderJudgement judge_run_folder(const RunRead& read, const std::filesystem::path& run_dir);

// The one status of a run (core/run_status.h), from its record.
RunStatus run_status(const RunRecord& r);

// Fills rec.metrics (the workload's metrics), rec.reward (the case's agent_metrics through its
// reward function), rec.details and, by collect_prediction, rec.measured and rec.prediction.
void collect_run_results(const RunRead& read, const std::vector<std::string>& agent_metrics,
                         std::string_view reward_function, RunRecord& rec);

// rec.measured from a finished run's read, and rec.prediction from rec.run_dir's estimate.toml
// (the one read of it for the record). Alone for a record the campaign journal restored, which
// keeps the verdict and metrics but neither of these.
void collect_prediction(const RunRead& read, RunRecord& rec);

// <run_dir>/job-state.toml: what judge() was given, so generate-report judges alike.
inline constexpr const char* kJobOutcomeFile = "job-state.toml";
void write_job_outcome(const std::filesystem::path& run_dir, const JobOutcome& job);
// job-state.toml, else the state and id of the scheduler's job record (`job_record`, for folders
// written before job-state.toml), else nullopt. A state that is not a non-empty string comes
// back empty (unknown).
std::optional<JobOutcome> read_job_outcome(const std::filesystem::path& run_dir,
                                           const std::optional<JobRecord>& job_record);

}  // namespace bp
