// The job loop shared by plain cases, hooks and sweeps: start a point (prepare its folder and
// submit it, or take up what an earlier session did with it), poll, judge and record an ended
// job, cancel or leave the rest. Private to src/engine/.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "campaign/campaign.h"
#include "core/executor.h"
#include "core/run_record.h"
#include "core/scenario.h"
#include "core/system.h"
#include "engine/engine.h"

namespace bp {

// A job the engine started and waits for.
struct RunningJob {
  Job job;
  TestRun run;  // with the point applied
  int iteration = 0;
  int step = 0;
  std::vector<std::pair<std::string, Value>> params;
  bool reported_running = false;
  bool stopped_by_dependency = false;  // cancelled on purpose (end_post_comp): not a failure
  std::optional<RunRecord> restored;   // finished in an earlier session (resume)
  PointKey key() const { return {run.id, iteration, step}; }
};

// Cases' node specs resolved to names by the system's scheduler, once per case (the engine
// resolves every case's before the first file is written, so a bad spec fails early).
class NodeNames {
 public:
  explicit NodeNames(const System& system) : system_(system) {}
  // A ConfigError naming the case's nodes when the scheduler cannot resolve them.
  const std::vector<std::string>& of(const TestRun& run);

 private:
  const System& system_;
  std::map<std::string, std::vector<std::string>> by_case_;
};

// When a job ends, in this order (docs/glossary.md, "ended job"): the executor concludes it
// (gives it its terminal state), the loop judges it (a RunRecord), records it (record_ended_job:
// judged, journaled, listed), then its caller settles it (post-tests and whatever waited for it).
class JobLoop {
 public:
  // `campaign` is null when nothing is journaled (dry-run); results go under `root`.
  JobLoop(const System& system, const EngineOptions& options, Executor& executor,
          std::filesystem::path root, Campaign* campaign, NodeNames nodes);

  // Prepares and submits a point, or (resume) takes up what an earlier session did with it
  // (engine/resume.h).
  std::unique_ptr<RunningJob> start_job(const TestRun& run, const std::filesystem::path& dir,
                                        int iteration, int step);
  // Scenario hooks (hooks.cc). Runs the case's pre-tests (unless its workload runs them itself,
  // as Megatron-Bridge's gate does) under <dir>/pre_test/ and waits for them; when one fails the
  // case is recorded SKIPPED with the reason and false is returned.
  bool pre_tests_pass(const TestRun& run, const std::filesystem::path& dir, int iteration, int step,
                      const std::vector<std::pair<std::string, Value>>& params);
  // Runs the point's post-tests under <dir>/post_test/ and waits for them.
  void run_post_tests(const RunningJob& point, const std::filesystem::path& dir);

  // One monitoring round; moves ended jobs out of `active` into `ended`.
  void poll_round(std::vector<std::unique_ptr<RunningJob>>& active,
                  std::vector<std::unique_ptr<RunningJob>>& ended);
  // When a stop was requested (Ctrl-C, SIGHUP): cancels (or, SIGHUP, leaves) the jobs and throws
  // Interrupted.
  void stop_if_requested(std::vector<std::unique_ptr<RunningJob>>& active);
  // Judges a job that ended, journals the result (batch: the wait round that delivered it, for
  // replay) and adds it to the records; the reference is valid until the next record is added.
  const RunRecord& record_ended_job(RunningJob& job, int batch);
  // Cancels the jobs that have not ended and records them, or (SIGHUP) leaves them running.
  void cancel_all(std::vector<std::unique_ptr<RunningJob>>& active);
  // Leaves the jobs running and forgets them (the journal knows them; a resume collects them).
  void detach_all(std::vector<std::unique_ptr<RunningJob>>& active);
  // Cancels a job on purpose (its case's end_post_comp parent ended): not a failure.
  void stop_by_dependency(RunningJob& job);

  // Every run recorded so far, in the order they ended.
  std::vector<RunRecord>& records() { return records_; }
  const std::filesystem::path& root() const { return root_; }
  Campaign* campaign() const { return campaign_; }
  // Why the scheduler stayed unreachable (the loop then asked to detach); empty when it did not.
  const std::string& lost_scheduler() const { return lost_scheduler_; }

 private:
  // Creates the run dir with all generated files; returns what to execute.
  RunSpec prepare(const TestRun& run, const std::filesystem::path& dir, int iteration, int step,
                  const std::string& job_comment);
  // Writes the point's prediction into its folder (estimate.toml), before it is submitted.
  void freeze_prediction(const TestRun& run, const std::filesystem::path& dir) const;
  Job submit(const TestRun& run, const std::filesystem::path& dir, const RunSpec& spec,
             const std::string& comment);
  RunRecord judge_ended_job(RunningJob& job);
  // A record for a run that has no job to judge (not submitted, or skipped by its pre-test).
  RunRecord record_without_job(const TestRun& run, const std::filesystem::path& dir, int iteration,
                               int step, std::vector<std::pair<std::string, Value>> params) const;
  // Runs a hook's cases as jobs under <dir>/<kind>/<hook case> and waits; "" when all passed,
  // else which failed and why. Each job carries the point's comment + ":<kind>:<hook case>", so
  // the campaign's jobs are all found by comment, and none is taken for the point's own job.
  std::string run_hook(const Hook& hook, const TestRun& owner, const PointKey& point,
                       const std::filesystem::path& dir, const std::string& kind);
  // The campaign's job comment for a point; empty without a journal (dry-run).
  std::string point_comment(const PointKey& key) const {
    return campaign_ ? campaign_->comment(key) : std::string();
  }

  const System& system_;
  const EngineOptions& options_;
  Executor& executor_;
  const std::filesystem::path root_;
  Campaign* const campaign_;
  NodeNames nodes_;
  std::vector<RunRecord> records_;
  std::string lost_scheduler_;
  int quiet_rounds_ = 0;  // poll rounds in a row in which no job changed state
};

}  // namespace bp
