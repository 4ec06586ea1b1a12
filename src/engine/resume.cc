#include "engine/resume.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "engine/engine.h"
#include "util/log.h"

namespace bp {

namespace fs = std::filesystem;

EarlierAttempt recover_point(Campaign& campaign, Executor& executor, const PointKey& key,
                             const std::string& job_name, const fs::path& run_dir) {
  EarlierAttempt out;
  const PointState* prev = campaign.previous(key);
  if (!prev) return out;
  if (prev->stage == PointStage::kFinished && prev->record) {
    out.record = prev->record;
    return out;
  }
  std::string id = prev->job_id;
  if (id.empty() && prev->stage != PointStage::kPlanned) {
    // Died between submitting and learning the id: Slurm knows the job by our comment or by
    // its run directory.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      if (auto found = executor.find_lost_job(prev->comment, run_dir)) {
        id = *found;
        log::info(key.str() + ": found job " + id + " in Slurm (its id was never recorded)");
        campaign.journal().submitted(key, id, prev->submitter_pid, prev->submitter_start);
        break;
      }
      // A wrapper of the earlier session that still runs may not have submitted yet.
      if (!process_alive(prev->submitter_pid, prev->submitter_start) ||
          std::chrono::steady_clock::now() > deadline || engine_stop_requested())
        break;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  if (id.empty()) {
    log::info(key.str() + ": no job of the earlier session was found; submitting it now");
    return out;
  }
  JobRequest req;
  req.name = job_name;
  req.run_dir = run_dir;
  req.comment = prev->comment;
  out.job =
      executor.attach(req, prev->self_submitting, id, prev->submitter_pid, prev->submitter_start);
  log::info("re-attached " + key.str() + " to job " + id);
  if (out.job->id != id && !out.job->id.empty())  // the launcher retried meanwhile
    campaign.journal().submitted(key, out.job->id, prev->submitter_pid, prev->submitter_start);
  return out;
}

void before_prepare(Campaign& campaign, const PointKey& key, const fs::path& run_dir) {
  if (campaign.started_before(key)) campaign.set_aside(run_dir, key);
  campaign.journal().planned(key);
}

std::string before_submit(Campaign& campaign, const PointKey& key, bool self_submitting) {
  std::string comment = campaign.comment(key);
  campaign.journal().submitting(key, comment, self_submitting);
  return comment;
}

void after_submit(Campaign& campaign, const Executor& executor, const PointKey& key,
                  const Job& job) {
  const int pid = executor.submitter_pid(job);
  if (!job.id.empty() || pid > 0)
    campaign.journal().submitted(key, job.id, pid, process_start_time(pid));
}

void job_id_learned(Campaign& campaign, const Executor& executor, const PointKey& key,
                    const Job& job) {
  const int pid = executor.submitter_pid(job);
  campaign.journal().submitted(key, job.id, pid, process_start_time(pid));
}

Replay::Replay(const Campaign* campaign, const std::string& case_id, int iteration) {
  if (!campaign) return;
  std::vector<std::vector<int>> batches = campaign->previous_batches(case_id, iteration);
  batch_ = static_cast<int>(batches.size());
  for (auto& b : batches)
    if (!b.empty()) batches_.push_back(std::move(b));
}

std::vector<RunRecord> Replay::next_batch(const std::string& case_id) {
  std::vector<int> steps;
  if (!batches_.empty() && std::all_of(batches_.front().begin(), batches_.front().end(),
                                       [&](int s) { return restored_.count(s) > 0; })) {
    steps = std::move(batches_.front());
    batches_.pop_front();
  } else {
    if (!batches_.empty())
      log::warn(case_id +
                ": the sweep did not replay as journaled; handing over the remaining finished "
                "points at once");
    batches_.clear();
    for (auto& [s, rec] : restored_) steps.push_back(s);
  }
  std::vector<RunRecord> out;
  for (int s : steps) {
    out.push_back(std::move(restored_.at(s)));
    restored_.erase(s);
  }
  return out;
}

}  // namespace bp
