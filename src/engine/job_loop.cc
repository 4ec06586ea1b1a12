#include "engine/job_loop.h"

#include <chrono>
#include <thread>

#include "core/judge.h"
#include "core/run_label.h"
#include "core/scheduler.h"
#include "engine/engine_internal.h"
#include "engine/resume.h"
#include "util/error.h"
#include "util/files.h"
#include "util/log.h"

namespace bp {

const Workload& workload_of(const TestRun& run) {
  const Workload* w = find_workload(run.test.test_template_name);
  if (!w)
    throw ConfigError(run.test.loc, "test_template_name",
                      "unknown workload '" + run.test.test_template_name + "'");
  return *w;
}

int first_num_nodes(const TestRun& run) {
  return run.num_nodes.empty() ? 1 : static_cast<int>(run.num_nodes.front());
}

bool judged_failed(const RunRecord& r) {
  return !r.passed && r.state != to_string(JobState::kNotSubmitted);
}

const std::vector<std::string>& NodeNames::of(const TestRun& run) {
  auto it = by_case_.find(run.id);
  if (it != by_case_.end()) return it->second;
  std::vector<std::string> nodes = run.nodes;
  if (!nodes.empty()) {
    try {
      nodes = scheduler_of(system_).resolve_nodes(system_, run.nodes);
    } catch (const ValueError& e) {
      throw ConfigError(run.loc, "Tests." + run.id + ".nodes", e.what());
    }
  }
  return by_case_[run.id] = std::move(nodes);
}

JobLoop::JobLoop(const System& system, const EngineOptions& options, Executor& executor,
                 fs::path root, Campaign* campaign, NodeNames nodes)
    : system_(system),
      options_(options),
      executor_(executor),
      root_(std::move(root)),
      campaign_(campaign),
      nodes_(std::move(nodes)) {}

RunSpec JobLoop::prepare(const TestRun& run, const fs::path& dir, int iteration, int step,
                         const std::string& job_comment) {
  // Case ids are safe names (no "/" or ".."), so this holds by construction; checked anyway
  // because a folder outside the results would be written with the user's rights.
  if (!is_inside(root_, dir))
    throw ConfigError(
        run.loc, "Tests." + run.id,
        "run folder " + dir.string() + " would be outside the results folder " + root_.string());
  fs::create_directories(dir);
  const Workload& w = workload_of(run);
  // Unset only where nobody probed (dry-run talks to no scheduler): assume they work.
  RunContext ctx{.system = system_,
                 .run = run,
                 .run_dir = fs::absolute(dir),
                 .num_nodes = first_num_nodes(run),
                 .resolved_nodes = nodes_.of(run),
                 .gpu_directives_supported = system_.supports_gpu_directives.value_or(true),
                 .job_comment = job_comment};
  RunSpec spec = w.prepare(ctx);
  write_test_run_toml(run, dir, iteration, step, spec.command);
  return spec;
}

void JobLoop::freeze_prediction(const TestRun& run, const fs::path& dir) const {
  const Estimator* estimator = workload_of(run).info().estimator;
  if (!options_.freeze_estimates || !estimator) return;
  try {
    freeze_estimate(*estimator, run, system_, dir, options_.calibration_runs);
  } catch (const std::exception& e) {  // a prediction is never a reason not to run
    log::warn("no prediction frozen for " + fs::relative(dir, root_).string() + ": " + e.what());
  }
}

Job JobLoop::submit(const TestRun& run, const fs::path& dir, const RunSpec& spec,
                    const std::string& comment) {
  JobRequest req;
  req.comment = comment;
  req.name = run.id;
  req.run_dir = fs::absolute(dir);
  req.spec = spec;
  req.num_nodes = first_num_nodes(run);
  req.nodes = nodes_.of(run);
  req.exclude_nodes = run.exclude_nodes;
  req.time_limit = run.time_limit;
  req.extra_srun_args = run.extra_srun_args;
  Job job = executor_.submit(req);
  if (job.state == JobState::kNotSubmitted) return job;  // nothing happened to report
  log::info("submitted " + fs::relative(dir, root_).string() +
            (job.id.empty() ? "" : " as job " + job.id));
  if (options_.progress) options_.progress->submitted(fs::relative(dir, root_).string());
  quiet_rounds_ = 0;
  return job;
}

std::unique_ptr<RunningJob> JobLoop::start_job(const TestRun& run, const fs::path& dir,
                                               int iteration, int step) {
  auto a = std::make_unique<RunningJob>();
  a->run = run;
  a->iteration = iteration;
  a->step = step;
  if (campaign_) {
    EarlierAttempt earlier =
        recover_point(*campaign_, executor_, a->key(), run.id, fs::absolute(dir));
    if (earlier.record) {  // handed over as finished, without a scheduler call
      a->restored = std::move(earlier.record);
      collect_prediction(workload_of(run).read(a->restored->run_dir), *a->restored);
      a->job.state = JobState::kCompleted;
      return a;
    }
    if (earlier.job) {
      a->job = *earlier.job;
      quiet_rounds_ = 0;
      return a;
    }
    before_prepare(*campaign_, a->key(), dir);
  }
  RunSpec spec =
      prepare(run, dir, iteration, step, campaign_ ? campaign_->comment(a->key()) : std::string());
  freeze_prediction(run, dir);  // before the journal says a submission is under way
  const std::string comment =
      campaign_ ? before_submit(*campaign_, a->key(), spec.self_submitting) : std::string();
  a->job = submit(run, dir, spec, comment);
  if (campaign_) after_submit(*campaign_, executor_, a->key(), a->job);
  return a;
}

void JobLoop::poll_round(std::vector<std::unique_ptr<RunningJob>>& active,
                         std::vector<std::unique_ptr<RunningJob>>& finished) {
  // Jobs that failed at submission are finished without asking the scheduler.
  bool any_terminal = false;
  for (auto& a : active) any_terminal |= is_terminal(a->job.state);
  if (!any_terminal) {
    auto wait = executor_.next_poll_interval(quiet_rounds_);
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until && !engine_stop_requested()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (options_.progress) options_.progress->tick();
    }
    if (engine_stop_requested()) return;
    std::vector<Job*> jobs;
    std::vector<JobState> before;
    std::vector<std::string> ids;
    for (auto& a : active) {
      jobs.push_back(&a->job);
      before.push_back(a->job.state);
      ids.push_back(a->job.id);
    }
    executor_.poll(jobs);
    if (std::string lost = executor_.lost_scheduler(); !lost.empty() && !engine_stop_requested()) {
      lost_scheduler_ = lost;
      request_engine_detach();  // the jobs may well be running: keep them, stay resumable
    }
    bool changed = false;
    for (size_t i = 0; i < jobs.size(); ++i) {
      changed |= jobs[i]->state != before[i];
      if (options_.progress && jobs[i]->state != before[i] && jobs[i]->state == JobState::kRunning)
        options_.progress->running(fs::relative(jobs[i]->run_dir, root_).string());
      // A wrapper printed its job id (or a launcher's retry a new one).
      if (campaign_ && jobs[i]->id != ids[i] && !jobs[i]->id.empty())
        job_id_learned(*campaign_, executor_, active[i]->key(), *jobs[i]);
    }
    quiet_rounds_ = changed ? 0 : quiet_rounds_ + 1;
  }
  for (auto it = active.begin(); it != active.end();) {
    if (is_terminal((*it)->job.state)) {
      finished.push_back(std::move(*it));
      it = active.erase(it);
    } else {
      ++it;
    }
  }
}

RunRecord JobLoop::judge_ended_job(RunningJob& a) {
  if (a.restored) return *a.restored;
  // A job never submitted has no outputs, state or verdict: its files are all there is.
  if (a.job.state == JobState::kNotSubmitted) {
    RunRecord rec = record_without_job(a.run, a.job.run_dir, a.iteration, a.step, a.params);
    rec.state = std::string(to_string(a.job.state));
    return rec;
  }
  const Workload& w = workload_of(a.run);
  fs::path dir = a.job.run_dir;
  executor_.write_job_metadata(a.job);
  const RunRead read = w.read(dir);
  try {
    if (read.write_reports) read.write_reports();
  } catch (const FileError&) {
    // The disk, not the log (e.g. no space left): stop before the point is journaled finished,
    // so a resume collects it again and writes its files.
    throw;
  } catch (const std::exception& e) {
    log::warn("report for " + dir.string() + " failed: " + e.what());
  }
  RunRecord rec = record_without_job(a.run, dir, a.iteration, a.step, a.params);
  rec.job_id = a.job.id;
  rec.state = std::string(to_string(a.job.state));
  for (const JobAttempt& attempt : all_attempts(a.job))
    rec.attempts.push_back(
        {attempt.id, std::string(to_string(attempt.state)), attempt.exit_code, attempt.signal});
  JobOutcome job{a.job.id, rec.state, a.job.reason, a.stopped_by_dependency};
  write_job_outcome(dir, job);
  Judgement j = judge(read, job);
  rec.passed = j.passed;
  rec.skipped = j.skipped;
  rec.message = j.message;
  collect_run_results(read, a.run.test.agent_metrics, a.run.test.agent_reward_function, rec);
  std::string label = run_label(a.run.id, a.iteration, a.step);
  if (rec.passed)
    log::info(label + ": PASSED (" + rec.state + ")");
  else if (rec.skipped)
    log::error(label + ": SKIPPED: " + rec.message);
  else
    log::error(label + ": FAILED: " + rec.message);
  if (options_.progress) options_.progress->finished(rec);
  return rec;
}

RunRecord JobLoop::record_without_job(const TestRun& run, const fs::path& dir, int iteration,
                                      int step,
                                      std::vector<std::pair<std::string, Value>> params) const {
  RunRecord rec;
  rec.case_id = run.id;
  rec.iteration = iteration;
  rec.step = step;
  rec.run_dir = fs::absolute(dir);
  rec.params = std::move(params);
  rec.workload = run.test.test_template_name;
  return rec;
}

void JobLoop::stop_if_requested(std::vector<std::unique_ptr<RunningJob>>& active) {
  if (!engine_stop_requested()) return;
  cancel_all(active);
  throw Interrupted{};
}

void JobLoop::cancel_all(std::vector<std::unique_ptr<RunningJob>>& active) {
  if (engine_detach_requested()) {  // SIGHUP: the jobs run on; the journal knows them
    executor_.detach();
    active.clear();
    return;
  }
  for (auto& a : active) {
    if (is_terminal(a->job.state)) continue;
    if (campaign_) campaign_->journal().cancelled(a->key());
    log::warn("cancelling " + run_label(a->run.id, a->iteration, a->step) +
              (a->job.id.empty() ? "" : " (job " + a->job.id + ")"));
    executor_.cancel(a->job);
    a->job.state = JobState::kCancelled;
    a->job.reason = "cancelled by benchpilot";
    records_.push_back(judge_ended_job(*a));
  }
  active.clear();
}

void JobLoop::detach_all(std::vector<std::unique_ptr<RunningJob>>& active) {
  if (!active.empty()) executor_.detach();
  active.clear();
}

const RunRecord& JobLoop::record_ended_job(RunningJob& a, int batch) {
  RunRecord rec = judge_ended_job(a);
  if (campaign_ && !a.restored) campaign_->journal().finished(a.key(), batch, rec, root_);
  records_.push_back(std::move(rec));
  return records_.back();
}

void JobLoop::stop_by_dependency(RunningJob& a) {
  a.stopped_by_dependency = true;
  executor_.cancel(a.job);
}

}  // namespace bp
