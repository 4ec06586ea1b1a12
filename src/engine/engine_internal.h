// The engine's internals, shared by its files (engine.cc: a scenario from start to end;
// job_loop.cc: prepare, submit, poll, judge, cancel; hooks.cc: pre- and post-tests;
// plain_cases.cc: cases that are not sweeps, with their dependencies; sweep_runner.cc: the
// points of a sweep). Not for use outside src/engine/.
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
#include "core/workload.h"
#include "engine/engine.h"

namespace bp {

namespace fs = std::filesystem;

// Thrown when a stop was requested, to unwind out of sweeps.
struct Interrupted {};

// The workload of a case; a ConfigError naming the case when it is unknown.
const Workload& workload_of(const TestRun& run);

// The case's node count (its first, when num_nodes is a list); 1 when unset.
int first_num_nodes(const TestRun& run);

// A run that was judged and did not pass: not one that was never submitted (dry-run).
bool judged_failed(const RunRecord& r);

// When a job ends, in this order (docs/glossary.md, "ended job"): the executor concludes it (gives
// it its terminal state), the engine judges it (judge_ended_job: a RunRecord), records it
// (record_ended_job: judged, journaled, listed), then settles it (settle: post-tests and whatever
// waited for it).

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

class Engine {
 public:
  Engine(const System& system, const Scenario& scenario, const EngineOptions& options,
         Executor* executor)
      : system_(system), scenario_(scenario), options_(options), executor_(executor) {}

  EngineResult run();

  // Creates the run dir with all generated files; returns what to execute.
  RunSpec prepare(const TestRun& run, const fs::path& dir, int iteration, int step,
                  const std::string& job_comment = {});
  // Writes the point's prediction into its folder (estimate.toml), before it is submitted.
  void freeze_prediction(const TestRun& run, const fs::path& dir) const;
  Job submit(const TestRun& run, const fs::path& dir, const RunSpec& spec,
             const std::string& comment = {});
  // Run mode: prepares and submits a point, or (resume) takes up what an earlier session did
  // with it (engine/resume.h).
  std::unique_ptr<RunningJob> start_job(const TestRun& run, const fs::path& dir, int iteration,
                                        int step);
  // Journals a finished point (batch: the wait round that delivered it, for replay).
  void journal_finished(const RunningJob& a, const RunRecord& rec, int batch) {
    if (campaign_ && !a.restored) campaign_->journal().finished(a.key(), batch, rec, root());
  }
  // Judges a job that ended, journals the result and adds it to the records; the reference is
  // valid until the next record is added.
  const RunRecord& record_ended_job(RunningJob& a, int batch) {
    RunRecord rec = judge_ended_job(a);
    journal_finished(a, rec, batch);
    records().push_back(std::move(rec));
    return records().back();
  }
  Campaign* campaign() const { return campaign_.get(); }
  // One monitoring round; moves finished jobs out of `active` into `finished`.
  void poll_round(std::vector<std::unique_ptr<RunningJob>>& active,
                  std::vector<std::unique_ptr<RunningJob>>& finished);
  RunRecord judge_ended_job(RunningJob& a);
  // A record for a run that has no job to judge (not submitted, or skipped by its pre-test).
  RunRecord record_without_job(const TestRun& run, const fs::path& dir, int iteration, int step,
                               std::vector<std::pair<std::string, Value>> params);
  void cancel_all(std::vector<std::unique_ptr<RunningJob>>& active);
  // Leaves the jobs running and forgets them (the journal knows them; a resume collects them).
  void detach_all(std::vector<std::unique_ptr<RunningJob>>& active) {
    if (executor_ && !active.empty()) executor_->detach();
    active.clear();
  }
  // Scenario hooks. Runs the case's pre-tests (unless its workload runs them itself, as
  // Megatron-Bridge's gate does) under <dir>/pre_test/ and waits for them; when one fails the
  // case is recorded SKIPPED with the reason and false is returned.
  bool pre_tests_pass(const TestRun& run, const fs::path& dir, int iteration, int step,
                      const std::vector<std::pair<std::string, Value>>& params);
  // Runs the point's post-tests under <dir>/post_test/ and waits for them.
  void run_post_tests(const RunningJob& point, const fs::path& dir);
  const fs::path& root() const { return result_.results_root; }
  const System& system() const { return system_; }
  const Scenario& scenario() const { return scenario_; }
  Executor& executor() { return *executor_; }
  // When a stop was requested (Ctrl-C, SIGHUP): cancels (or, SIGHUP, leaves) the jobs and throws
  // Interrupted.
  void stop_if_requested(std::vector<std::unique_ptr<RunningJob>>& active);
  // job_status_check saw a failure: nothing more is started, the run fails.
  bool failed_fast() const { return failed_fast_; }
  void fail_fast() { failed_fast_ = true; }
  int max_in_flight() const { return options_.max_in_flight; }
  std::vector<RunRecord>& records() { return result_.records; }
  // The case's node specs resolved to names, once per case.
  const std::vector<std::string>& resolved_nodes(const TestRun& run);

 private:
  // Runs a hook's cases as jobs under <dir>/<kind>/<hook case> and waits; "" when all passed,
  // else which failed and why. Each job carries the point's comment + ":<kind>:<hook case>", so
  // the campaign's jobs are all found by comment, and none is taken for the point's own job.
  std::string run_hook(const Hook& hook, const TestRun& owner, const PointKey& point,
                       const fs::path& dir, const std::string& kind);
  // The campaign's job comment for a point; empty without a journal (dry-run).
  std::string point_comment(const PointKey& k) const {
    return campaign_ ? campaign_->comment(k) : std::string();
  }
  std::map<std::string, std::vector<std::string>> nodes_cache_;
  // Runs the cases that are not sweeps (plain_cases.cc).
  void run_plain_cases(const std::vector<const TestRun*>& cases);
  void run_sweep_case(const TestRun& run);
  void open_results_folder();

  const System& system_;
  const Scenario& scenario_;
  const EngineOptions& options_;
  Executor* executor_;
  EngineResult result_;
  std::shared_ptr<Campaign> campaign_;
  int quiet_rounds_ = 0;
  bool failed_fast_ = false;
};

}  // namespace bp
