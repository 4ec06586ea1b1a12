#include "core/judge.h"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <string_view>

#include "config/toml_reader.h"
#include "core/executor.h"
#include "core/reward.h"
#include "core/scheduler.h"
#include "util/files.h"
#include "util/strings.h"

namespace bp {

namespace fs = std::filesystem;

Judgement judge(const RunRead& read, const JobOutcome& job) {
  Judgement j;
  if (job.state == kSkippedJobState) {  // the engine did not start it (a pre-test failed)
    j.skipped = true;
    j.message = job.reason;
    return j;
  }
  const RunVerdict& v = read.verdict;
  if (v.skipped) {
    j.skipped = true;
    j.message = v.message;
    return j;
  }
  bool job_ok = job.state.empty() || job.state == to_string(JobState::kCompleted) ||
                (job.stopped_by_dependency && job.state == to_string(JobState::kCancelled));
  j.passed = job_ok && v.ok;
  if (!job_ok) {
    j.message = "job " + (job.id.empty() ? std::string("(no id)") : job.id) + " ended " +
                job.state + (job.reason.empty() ? "" : " (" + job.reason + ")");
    std::string details = !v.ok && !v.message.empty() ? v.message : read.failure_details;
    if (!details.empty()) j.message += "\n" + details;
  } else if (!v.ok) {
    j.message = v.message;
  }
  return j;
}

namespace {

// Appends into one string (operator+ chains of literals trip GCC 12's -Warray-bounds).
std::string concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out += part;
  return out;
}

// Why a run folder has no usable job state, for the UNKNOWN message.
std::string why_no_job_state(const fs::path& dir, const std::optional<JobRecord>& job_record) {
  static constexpr std::string_view kNoState = " has no job state (a non-empty string 'state')";
  std::error_code ec;
  if (fs::exists(dir / kJobOutcomeFile, ec)) {
    try {
      read_toml_file(dir / kJobOutcomeFile);
      return concat({kJobOutcomeFile, kNoState});
    } catch (const std::exception& e) {
      return concat({kJobOutcomeFile, " is unreadable: ", e.what()});
    }
  }
  if (job_record)
    return job_record->unreadable.empty()
               ? concat({job_record->file, kNoState})
               : concat({job_record->file, " is unreadable: ", job_record->unreadable});
  std::string files = kJobOutcomeFile;  // "a, b or c"
  std::vector<std::string_view> records;
  for (const Scheduler* s : all_schedulers())
    if (!s->job_record_file().empty()) records.push_back(s->job_record_file());
  for (size_t i = 0; i < records.size(); ++i)
    files += (i + 1 == records.size() ? " or " : ", ") + std::string(records[i]);
  return "no job state recorded (no " + files + "): the run may have been killed";
}

}  // namespace

FolderJudgement judge_run_folder(const RunRead& read, const fs::path& run_dir,
                                 const std::optional<JobRecord>& job_record) {
  FolderJudgement out;
  std::optional<JobOutcome> job = read_job_outcome(run_dir, job_record);
  if (!job || job->state.empty() || has_control_char(job->state)) {
    // A folder from a killed run has no state, and a damaged one proves nothing: never PASSED.
    const RunVerdict& v = read.verdict;
    out.state = kUnknownJobState;
    out.judgement.message = why_no_job_state(run_dir, job_record) +
                            (v.ok || v.message.empty() ? std::string() : "\n" + v.message);
    return out;
  }
  out.judgement = judge(read, *job);
  out.job_id = job->id;
  out.state = job->state;
  return out;
}

FolderJudgement judge_run_folder(const RunRead& read, const fs::path& run_dir) {
  return judge_run_folder(read, run_dir, read_job_record(run_dir));
}

RunStatus run_status(const RunRecord& r) {
  if (r.state == to_string(JobState::kNotSubmitted)) return RunStatus::kDryRun;
  if (r.skipped) return RunStatus::kSkipped;
  if (r.state == kUnknownJobState && !r.passed) return RunStatus::kUnknown;
  return r.passed ? RunStatus::kPassed : RunStatus::kFailed;
}

void collect_run_results(const RunRead& read, const std::vector<std::string>& agent_metrics,
                         std::string_view reward_function, RunRecord& rec) {
  rec.metrics.insert(read.metrics.begin(), read.metrics.end());
  rec.reward = run_reward(agent_metrics, reward_function, rec.metrics);
  rec.details = read.details;
  collect_prediction(read, rec);
}

void collect_prediction(const RunRead& read, RunRecord& rec) {
  rec.measured = read.measured;
  if (!rec.run_dir.empty()) rec.prediction = read_frozen_estimate(rec.run_dir);
}

void write_job_outcome(const fs::path& run_dir, const JobOutcome& job) {
  Value doc = Value::table();
  doc.set("job_id", Value::string(job.id));
  doc.set("state", Value::string(job.state));
  doc.set("reason", Value::string(job.reason));
  doc.set("stopped_by_dependency", Value::boolean(job.stopped_by_dependency));
  write_file_atomic(run_dir / kJobOutcomeFile, to_toml_document(doc));
}

std::optional<JobOutcome> read_job_outcome(const fs::path& run_dir,
                                           const std::optional<JobRecord>& job_record) {
  auto text = [](const Value& doc, const char* key) {
    const Value* v = doc.find(key);
    return v && (v->is_string() || v->is_int()) ? v->to_plain_string() : std::string();
  };
  // Only a non-empty string is a state: an empty, garbage or wrongly typed file proves nothing
  // (the caller then says UNKNOWN, never PASSED).
  auto state = [](const Value& doc) {
    const Value* v = doc.find("state");
    return v && v->is_string() ? v->as_string() : std::string();
  };
  std::error_code ec;
  if (fs::is_regular_file(run_dir / kJobOutcomeFile, ec)) {
    try {
      Value doc = read_toml_file(run_dir / kJobOutcomeFile);
      JobOutcome job{text(doc, "job_id"), state(doc), text(doc, "reason"), false};
      if (const Value* v = doc.find("stopped_by_dependency"); v && v->is_bool())
        job.stopped_by_dependency = v->as_bool();
      return job;
    } catch (const std::exception&) {  // unreadable or not TOML: no state known
      return std::nullopt;
    }
  }
  if (job_record && job_record->unreadable.empty())
    return JobOutcome{job_record->job_id, job_record->state, "", false};
  return std::nullopt;
}

}  // namespace bp
