// Scenario hooks: a case's pre-tests gate it, its post-tests run after it.
#include "core/judge.h"
#include "core/run_label.h"
#include "core/run_status.h"
#include "engine/engine_internal.h"
#include "engine/job_loop.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

std::string JobLoop::run_hook(const Hook& hook, const TestRun& owner, const PointKey& point,
                              const fs::path& dir, const std::string& kind) {
  const std::string owner_comment = point_comment(point);
  std::vector<std::unique_ptr<RunningJob>> active;
  std::vector<std::string> failures;
  for (const TestRun& h : hook.runs) {
    TestRun hr = h;
    hr.id = owner.id + "." + kind + "." + h.id;  // its name in the results
    fs::path hdir = dir / kind / h.id;
    log::info("running " + kind + " '" + hook.name + "' case " + h.id + " for " + owner.id);
    const std::string comment =
        owner_comment.empty() ? "" : owner_comment + ":" + kind + ":" + h.id;
    RunSpec spec = prepare(hr, hdir, 0, 0, comment);
    auto a = std::make_unique<RunningJob>();
    a->run = std::move(hr);
    a->job = submit(a->run, hdir, spec, comment);
    active.push_back(std::move(a));
  }
  while (!active.empty()) {
    stop_if_requested(active);
    std::vector<std::unique_ptr<RunningJob>> finished;
    poll_round(active, finished);
    for (auto& a : finished) {
      RunRecord rec = judge_ended_job(*a);
      if (judged_failed(rec)) {
        std::string why = rec.message.substr(0, rec.message.find('\n'));
        failures.push_back(a->run.id + ": " + why);
      }
      records_.push_back(std::move(rec));
    }
  }
  return join(failures, "; ");
}

bool JobLoop::pre_tests_pass(const TestRun& run, const fs::path& dir, int iteration, int step,
                             const std::vector<std::pair<std::string, Value>>& params) {
  if (!run.pre_test || workload_of(run).info().runs_own_pre_tests) return true;
  // A resumed point that an earlier session got past its pre-tests is not gated again.
  if (campaign_ && campaign_->previous(PointKey{run.id, iteration, step})) return true;
  std::string failed =
      run_hook(*run.pre_test, run, PointKey{run.id, iteration, step}, dir, "pre_test");
  if (failed.empty()) return true;
  RunRecord rec = record_without_job(run, dir, iteration, step, params);
  rec.state = std::string(kSkippedJobState);
  rec.skipped = true;
  rec.message =
      "pre-test '" + run.pre_test->name + "' failed, so " + run.id + " was not started: " + failed;
  JobOutcome skipped;
  skipped.state = std::string(kSkippedJobState);
  skipped.reason = rec.message;
  write_job_outcome(dir, skipped);
  log::error(run_label(run.id, iteration, step) + ": SKIPPED: " + rec.message);
  records_.push_back(std::move(rec));
  return false;
}

void JobLoop::run_post_tests(const RunningJob& point, const fs::path& dir) {
  const TestRun& run = point.run;
  if (!run.post_test) return;
  std::string failed = run_hook(*run.post_test, run, point.key(), dir, "post_test");
  if (!failed.empty())
    log::warn("post-test '" + run.post_test->name + "' of " + run.id + " failed: " + failed);
}

}  // namespace bp
