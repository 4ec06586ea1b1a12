// The engine's side of a campaign: what to do with each point an earlier session may have
// touched, the journal records around a submission, and the replay of finished batches.
// Kept here so the engine only calls in at a few places.
#pragma once

#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "campaign/campaign.h"
#include "core/executor.h"

namespace bp {

// What an earlier session left of a point, recovered.
struct EarlierAttempt {
  std::optional<RunRecord> record;  // it finished: reuse the record, never run it again
  std::optional<Job> job;           // its job is known to Slurm: watch it (re-attached)
  // Neither: run it now (the caller calls before_prepare/before_submit/after_submit).
};

// Finished: the record; submitted: the job re-attached; submitted but the id never recorded:
// the job found in Slurm by comment or run dir (waiting up to a minute for a wrapper of the
// earlier session that is still running and may not have submitted yet).
EarlierAttempt recover_point(Campaign& campaign, Executor& executor, const PointKey& key,
                             const std::string& job_name, const std::filesystem::path& run_dir);

// Before a point's files are generated: sets aside what an earlier attempt left, journals
// "planned".
void before_prepare(Campaign& campaign, const PointKey& key, const std::filesystem::path& run_dir);
// Before the submission: journals (and flushes) "submitting"; returns the job comment.
std::string before_submit(Campaign& campaign, const PointKey& key, bool self_submitting);
// After submit() returned: journals the job id or the wrapper that will print it.
void after_submit(Campaign& campaign, const Executor& executor, const PointKey& key,
                  const Job& job);
// After a poll round: a wrapper printed the job id of a point.
void job_id_learned(Campaign& campaign, const Executor& executor, const PointKey& key,
                    const Job& job);

// The finished points of an earlier session for one (case, iteration), handed back to the sweep
// driver batch by batch in the order it first saw them, so a replayed agent proposes the same
// points.
class Replay {
 public:
  Replay(const Campaign* campaign, const std::string& case_id, int iteration);
  // A point the driver started that had finished before.
  void add(int step, RunRecord record) { restored_[step] = std::move(record); }
  size_t pending() const { return restored_.size(); }
  // The next journaled batch (all of it restored by now), else everything restored at once.
  std::vector<RunRecord> next_batch(const std::string& case_id);
  // The number for the next batch this session delivers.
  int next_batch_number() { return ++batch_; }

 private:
  std::map<int, RunRecord> restored_;
  std::deque<std::vector<int>> batches_;
  int batch_ = 0;
};

}  // namespace bp
