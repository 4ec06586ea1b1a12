#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "core/executor.h"
#include "core/judge.h"
#include "core/run_label.h"
#include "core/scheduler.h"
#include "core/workload.h"
#include "engine/resume.h"
#include "sweep/dse_driver.h"
#include "sweep/param_space.h"
#include "sweep/point_runner.h"
#include "util/error.h"
#include "util/files.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/time_format.h"

namespace bp {

namespace fs = std::filesystem;

namespace {

// What Ctrl-C (or a test) asked of the engine; a sig_atomic_t because a signal handler sets it.
enum StopRequest : std::sig_atomic_t {
  kNoStop = 0,
  kStopAndCancel = 1,  // cancel the jobs and end (request_engine_stop)
  kDetach = 2,         // leave the jobs running for a later `resume` (request_engine_detach)
};
volatile std::sig_atomic_t g_stop = kNoStop;

// Thrown when a stop was requested, to unwind out of sweeps.
struct Interrupted {};

std::string now_stamp() {
  return format_time(std::time(nullptr), "%Y-%m-%d_%H-%M-%S");
}

const Workload& workload_of(const TestRun& run) {
  const Workload* w = find_workload(run.test.test_template_name);
  if (!w)
    throw ConfigError(run.test.loc, "test_template_name",
                      "unknown workload '" + run.test.test_template_name + "'");
  return *w;
}

// A run that was judged and did not pass: not one that was never submitted (dry-run).
bool judged_failed(const RunRecord& r) {
  return !r.passed && r.state != to_string(JobState::kNotSubmitted);
}

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
  void run_plain_cases(const std::vector<const TestRun*>& cases);
  void run_plain_cases(const std::vector<const TestRun*>& cases,
                       std::vector<std::unique_ptr<RunningJob>>& active);
  void run_sweep_case(const TestRun& run);

  const System& system_;
  const Scenario& scenario_;
  const EngineOptions& options_;
  Executor* executor_;
  EngineResult result_;
  std::shared_ptr<Campaign> campaign_;
  int quiet_rounds_ = 0;
  bool failed_fast_ = false;
};

class EnginePointRunner : public PointRunner {
 public:
  EnginePointRunner(Engine& engine, const TestRun& base, int iteration, int max_in_flight)
      : engine_(engine),
        base_(base),
        iteration_(iteration),
        max_in_flight_(max_in_flight),
        replay_(engine.campaign(), base.id, iteration) {
    case_dir_ = engine.root() / base.id / std::to_string(iteration);
    fs::create_directories(case_dir_);
  }
  ~EnginePointRunner() override {
    // Unwinding from an error (a full disk, say): leave the jobs to run, as on SIGHUP; the
    // journal knows them and a resume collects them. Never throw from here.
    if (std::uncaught_exceptions() > 0) {
      engine_.detach_all(active_);
      return;
    }
    try {
      engine_.cancel_all(active_);
    } catch (const std::exception& e) {
      log::error(std::string("cancelling the sweep's jobs failed: ") + e.what());
    }
  }

  void start(int step, const TestRun& point) override {
    if (engine_stop_requested()) throw Interrupted{};
    fs::path dir = case_dir_ / std::to_string(step);
    auto params = swept_params(point);
    if (!engine_.pre_tests_pass(point, dir, iteration_, step, params)) {
      PointResult r;
      r.step = step;
      r.ok = false;
      r.message = engine_.records().back().message;
      r.run_dir = dir;
      done_.push_back(r);
      return;
    }
    std::unique_ptr<RunningJob> a = engine_.start_job(point, dir, iteration_, step);
    a->params = std::move(params);
    if (a->restored) {
      replay_.add(step, std::move(*a->restored));
    } else if (a->job.state == JobState::kNotSubmitted) {
      // Never submitted: nothing to wait for, so it is not in flight; settled now, its
      // result comes back with the next wait.
      done_.push_back(settle(*a, 0));
    } else {
      active_.push_back(std::move(a));
    }
  }

  std::vector<PointResult> wait_any() override {
    std::vector<PointResult> out;
    std::swap(out, done_);
    if (out.empty() && replay_.pending())
      for (RunRecord& rec : replay_.next_batch(base_.id)) {
        out.push_back(point_result(rec));
        engine_.records().push_back(std::move(rec));
      }
    while (out.empty() && !active_.empty()) {
      if (engine_stop_requested()) {
        engine_.cancel_all(active_);
        throw Interrupted{};
      }
      std::vector<std::unique_ptr<RunningJob>> finished;
      engine_.poll_round(active_, finished);
      const int batch = finished.empty() ? 0 : replay_.next_batch_number();
      for (auto& a : finished) out.push_back(settle(*a, batch));
    }
    return out;
  }

  int in_flight() const override { return static_cast<int>(active_.size() + replay_.pending()); }
  int max_in_flight() const override {
    if (const Value* v = base_.test.agent_config.find("max_in_flight"); v && v->is_int())
      return std::max<int>(1, static_cast<int>(v->as_int()));
    return max_in_flight_;
  }
  fs::path case_dir() const override { return case_dir_; }

 private:
  // Records a finished point, runs its post-tests and says how it went. The point's record
  // comes before its post-tests', as for cases that are not sweeps.
  PointResult settle(RunningJob& a, int batch) {
    PointResult r = point_result(engine_.record_ended_job(a, batch));
    engine_.run_post_tests(a, r.run_dir);
    return r;
  }

  // The values this point took for the base case's swept keys (trajectory/summary names).
  std::vector<std::pair<std::string, Value>> swept_params(const TestRun& point) const {
    std::vector<std::pair<std::string, Value>> out;
    for (const Axis& axis : space_.axes()) {
      const Value* v = nullptr;
      switch (axis.target) {
        case Axis::Target::kCmdArg:
          v = point.test.cmd_args.find_path(axis.key);
          break;
        case Axis::Target::kEnvVar:
          v = point.test.extra_env_vars.find(axis.key);
          break;
        case Axis::Target::kNumNodes:
          if (!point.num_nodes.empty())
            out.emplace_back(axis.name, Value::integer(point.num_nodes[0]));
          continue;
      }
      if (v) out.emplace_back(axis.name, *v);
    }
    return out;
  }

  static PointResult point_result(const RunRecord& rec) {
    PointResult r;
    r.step = rec.step;
    r.ok = rec.passed;
    r.message = rec.message;
    r.metrics = rec.metrics;
    r.run_dir = rec.run_dir;
    r.submitted = rec.state != to_string(JobState::kNotSubmitted);
    return r;
  }

  Engine& engine_;
  const TestRun& base_;
  ParamSpace space_ = ParamSpace::of(base_);
  int iteration_;
  int max_in_flight_;
  fs::path case_dir_;
  std::vector<std::unique_ptr<RunningJob>> active_;
  std::vector<PointResult> done_;
  Replay replay_;  // resume: finished points of an earlier session, handed back in order
};

const std::vector<std::string>& Engine::resolved_nodes(const TestRun& run) {
  auto it = nodes_cache_.find(run.id);
  if (it != nodes_cache_.end()) return it->second;
  std::vector<std::string> nodes = run.nodes;
  if (!nodes.empty()) {
    try {
      nodes = scheduler_of(system_).resolve_nodes(system_, run.nodes);
    } catch (const ValueError& e) {
      throw ConfigError(run.loc, "Tests." + run.id + ".nodes", e.what());
    }
  }
  return nodes_cache_[run.id] = std::move(nodes);
}

RunSpec Engine::prepare(const TestRun& run, const fs::path& dir, int iteration, int step,
                        const std::string& job_comment) {
  // Case ids are safe names (no "/" or ".."), so this holds by construction; checked anyway
  // because a folder outside the results would be written with the user's rights.
  if (!is_inside(root(), dir))
    throw ConfigError(
        run.loc, "Tests." + run.id,
        "run folder " + dir.string() + " would be outside the results folder " + root().string());
  fs::create_directories(dir);
  const Workload& w = workload_of(run);
  // Unset only where nobody probed (dry-run talks to no scheduler): assume they work.
  RunContext ctx{system_, run, fs::absolute(dir),
                 1,       {},  system_.supports_gpu_directives.value_or(true)};
  ctx.num_nodes = run.num_nodes.empty() ? 1 : static_cast<int>(run.num_nodes.front());
  ctx.resolved_nodes = resolved_nodes(run);
  ctx.job_comment = job_comment;
  RunSpec spec = w.prepare(ctx);
  write_test_run_toml(run, dir, iteration, step, spec.command);
  return spec;
}

Job Engine::submit(const TestRun& run, const fs::path& dir, const RunSpec& spec,
                   const std::string& comment) {
  JobRequest req;
  req.comment = comment;
  req.name = run.id;
  req.run_dir = fs::absolute(dir);
  req.spec = spec;
  req.num_nodes = run.num_nodes.empty() ? 1 : static_cast<int>(run.num_nodes.front());
  req.nodes = resolved_nodes(run);
  req.exclude_nodes = run.exclude_nodes;
  req.time_limit = run.time_limit;
  req.extra_srun_args = run.extra_srun_args;
  Job job = executor_->submit(req);
  if (job.state == JobState::kNotSubmitted) return job;  // nothing happened to report
  log::info("submitted " + fs::relative(dir, root()).string() +
            (job.id.empty() ? "" : " as job " + job.id));
  if (options_.progress) options_.progress->submitted(fs::relative(dir, root()).string());
  quiet_rounds_ = 0;
  return job;
}

std::unique_ptr<RunningJob> Engine::start_job(const TestRun& run, const fs::path& dir,
                                              int iteration, int step) {
  auto a = std::make_unique<RunningJob>();
  a->run = run;
  a->iteration = iteration;
  a->step = step;
  if (campaign_) {
    EarlierAttempt earlier =
        recover_point(*campaign_, *executor_, a->key(), run.id, fs::absolute(dir));
    if (earlier.record) {  // handed over as finished, without a scheduler call
      a->restored = std::move(earlier.record);
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
  const std::string comment =
      campaign_ ? before_submit(*campaign_, a->key(), spec.self_submitting) : std::string();
  a->job = submit(run, dir, spec, comment);
  if (campaign_) after_submit(*campaign_, *executor_, a->key(), a->job);
  return a;
}

void Engine::poll_round(std::vector<std::unique_ptr<RunningJob>>& active,
                        std::vector<std::unique_ptr<RunningJob>>& finished) {
  // Jobs that failed at submission are finished without asking the scheduler.
  bool any_terminal = false;
  for (auto& a : active) any_terminal |= is_terminal(a->job.state);
  if (!any_terminal) {
    auto wait = executor_->next_poll_interval(quiet_rounds_);
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
    executor_->poll(jobs);
    if (std::string lost = executor_->lost_scheduler(); !lost.empty() && !engine_stop_requested()) {
      result_.lost_scheduler = lost;
      request_engine_detach();  // the jobs may well be running: keep them, stay resumable
    }
    bool changed = false;
    for (size_t i = 0; i < jobs.size(); ++i) {
      changed |= jobs[i]->state != before[i];
      if (options_.progress && jobs[i]->state != before[i] && jobs[i]->state == JobState::kRunning)
        options_.progress->running(fs::relative(jobs[i]->run_dir, root()).string());
      // A wrapper printed its job id (or a launcher's retry a new one).
      if (campaign_ && jobs[i]->id != ids[i] && !jobs[i]->id.empty())
        job_id_learned(*campaign_, *executor_, active[i]->key(), *jobs[i]);
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

RunRecord Engine::judge_ended_job(RunningJob& a) {
  if (a.restored) return *a.restored;
  // A job never submitted has no outputs, state or verdict: its files are all there is.
  if (a.job.state == JobState::kNotSubmitted) {
    RunRecord rec = record_without_job(a.run, a.job.run_dir, a.iteration, a.step, a.params);
    rec.state = std::string(to_string(a.job.state));
    return rec;
  }
  const Workload& w = workload_of(a.run);
  fs::path dir = a.job.run_dir;
  if (executor_) executor_->write_job_metadata(a.job);
  try {
    w.write_report(dir);
  } catch (const FileError&) {
    // The disk, not the log (e.g. no space left): stop before the point is journaled finished,
    // so a resume collects it again and writes its files.
    throw;
  } catch (const std::exception& e) {
    log::warn("report for " + dir.string() + " failed: " + e.what());
  }
  RunRecord rec;
  rec.case_id = a.run.id;
  rec.iteration = a.iteration;
  rec.step = a.step;
  rec.run_dir = dir;
  rec.params = a.params;
  rec.job_id = a.job.id;
  rec.workload = a.run.test.test_template_name;
  rec.state = std::string(to_string(a.job.state));
  for (const JobAttempt& attempt : all_attempts(a.job))
    rec.attempts.push_back(
        {attempt.id, std::string(to_string(attempt.state)), attempt.exit_code, attempt.signal});
  JobOutcome job{a.job.id, rec.state, a.job.reason, a.stopped_by_dependency};
  write_job_outcome(dir, job);
  Judgement j = judge(w, dir, job);
  rec.passed = j.passed;
  rec.skipped = j.skipped;
  rec.message = j.message;
  collect_run_results(w, dir, a.run.test.agent_metrics, a.run.test.agent_reward_function, rec);
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

RunRecord Engine::record_without_job(const TestRun& run, const fs::path& dir, int iteration,
                                     int step, std::vector<std::pair<std::string, Value>> params) {
  RunRecord rec;
  rec.case_id = run.id;
  rec.iteration = iteration;
  rec.step = step;
  rec.run_dir = fs::absolute(dir);
  rec.params = std::move(params);
  rec.workload = run.test.test_template_name;
  return rec;
}

void Engine::cancel_all(std::vector<std::unique_ptr<RunningJob>>& active) {
  if (engine_detach_requested()) {  // SIGHUP: the jobs run on; the journal knows them
    if (executor_) executor_->detach();
    active.clear();
    return;
  }
  for (auto& a : active) {
    if (is_terminal(a->job.state)) continue;
    if (campaign_) campaign_->journal().cancelled(a->key());
    log::warn("cancelling " + run_label(a->run.id, a->iteration, a->step) +
              (a->job.id.empty() ? "" : " (job " + a->job.id + ")"));
    executor_->cancel(a->job);
    a->job.state = JobState::kCancelled;
    a->job.reason = "cancelled by benchpilot";
    records().push_back(judge_ended_job(*a));
  }
  active.clear();
}

std::string Engine::run_hook(const Hook& hook, const TestRun& owner, const PointKey& point,
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
    if (engine_stop_requested()) {
      cancel_all(active);
      throw Interrupted{};
    }
    std::vector<std::unique_ptr<RunningJob>> finished;
    poll_round(active, finished);
    for (auto& a : finished) {
      RunRecord rec = judge_ended_job(*a);
      if (judged_failed(rec)) {
        std::string why = rec.message.substr(0, rec.message.find('\n'));
        failures.push_back(a->run.id + ": " + why);
      }
      records().push_back(std::move(rec));
    }
  }
  return join(failures, "; ");
}

bool Engine::pre_tests_pass(const TestRun& run, const fs::path& dir, int iteration, int step,
                            const std::vector<std::pair<std::string, Value>>& params) {
  if (!run.pre_test || workload_of(run).runs_own_pre_tests()) return true;
  // A resumed point that an earlier session got past its pre-tests is not gated again.
  if (campaign_ && campaign_->previous(PointKey{run.id, iteration, step})) return true;
  std::string failed =
      run_hook(*run.pre_test, run, PointKey{run.id, iteration, step}, dir, "pre_test");
  if (failed.empty()) return true;
  RunRecord rec = record_without_job(run, dir, iteration, step, params);
  rec.state = "SKIPPED";
  rec.skipped = true;
  rec.message =
      "pre-test '" + run.pre_test->name + "' failed, so " + run.id + " was not started: " + failed;
  write_job_outcome(dir, JobOutcome{"", "SKIPPED", rec.message, false});
  log::error(run_label(run.id, iteration, step) + ": SKIPPED: " + rec.message);
  records().push_back(std::move(rec));
  return false;
}

void Engine::run_post_tests(const RunningJob& point, const fs::path& dir) {
  const TestRun& run = point.run;
  if (!run.post_test) return;
  std::string failed = run_hook(*run.post_test, run, point.key(), dir, "post_test");
  if (!failed.empty())
    log::warn("post-test '" + run.post_test->name + "' of " + run.id + " failed: " + failed);
}

void Engine::run_plain_cases(const std::vector<const TestRun*>& cases) {
  std::vector<std::unique_ptr<RunningJob>> active;
  try {
    run_plain_cases(cases, active);
  } catch (const Interrupted&) {  // e.g. Ctrl-C while waiting for a pre-test
    cancel_all(active);
    throw;
  } catch (const std::exception&) {  // e.g. the journal hit a full disk: keep what runs
    detach_all(active);
    throw;
  }
}

void Engine::run_plain_cases(const std::vector<const TestRun*>& cases,
                             std::vector<std::unique_ptr<RunningJob>>& active) {
  // Which cases wait for which: start_post_* dependents are started by their parent.
  std::map<std::string, std::vector<std::pair<DependencyType, const TestRun*>>> dependents;
  std::set<std::string> deferred;
  for (const TestRun* c : cases) {
    for (const Dependency& d : c->dependencies) {
      dependents[d.id].emplace_back(d.type, c);
      if (d.type != DependencyType::kEndPostComp) deferred.insert(c->id);
    }
  }
  std::set<std::string> started;
  bool status_check_stopped = false;  // job_status_check cancelled everything
  std::function<void(std::unique_ptr<RunningJob>)> settle;
  auto start = [&](const TestRun& run, int iteration) {
    if (failed_fast_) return;  // a pre-test failed under job_status_check: start nothing more
    fs::path dir = root() / run.id / std::to_string(iteration);
    started.insert(run.id);
    if (!pre_tests_pass(run, dir, iteration, 0, {})) {
      if (scenario_.job_status_check)
        failed_fast_ = true;
      else if (iteration + 1 < run.iterations || dependents.count(run.id))
        log::warn(run.id +
                  " was skipped: its later iterations and the cases that depend on it "
                  "are not started");
      return;
    }
    std::unique_ptr<RunningJob> a = start_job(run, dir, iteration, 0);
    // A job never submitted needs no waiting: what follows it starts now.
    if (a->job.state == JobState::kNotSubmitted)
      settle(std::move(a));
    else
      active.push_back(std::move(a));
  };
  auto start_dependents = [&](const std::string& parent, DependencyType type) {
    for (auto& [t, child] : dependents[parent])
      if (t == type && !started.count(child->id)) {
        log::info("starting " + child->id + " (" + std::string(to_string(type)) + " of " + parent +
                  ")");
        start(*child, 0);
      }
  };
  // Records a job that ended and starts what waited for it: its next iteration after the
  // last, its dependents.
  settle = [&](std::unique_ptr<RunningJob> a) {
    const RunRecord& rec = record_ended_job(*a, 0);
    const bool failed = judged_failed(rec);
    const fs::path run_dir = rec.run_dir;  // copied: post-tests add records
    run_post_tests(*a, run_dir);
    if (!a->reported_running && a->iteration == 0)
      start_dependents(a->run.id, DependencyType::kStartPostInit);
    if (failed && scenario_.job_status_check) {
      log::error("job_status_check: " + a->run.id + " failed; cancelling everything else");
      failed_fast_ = true;
      status_check_stopped = true;
      cancel_all(active);
      return;
    }
    if (a->iteration + 1 < a->run.iterations) {  // iterations follow each other
      start(a->run, a->iteration + 1);
      return;
    }
    // Last iteration done: release dependents.
    for (auto& other : active) {
      for (const Dependency& d : other->run.dependencies)
        if (d.type == DependencyType::kEndPostComp && d.id == a->run.id &&
            !is_terminal(other->job.state)) {
          log::info("stopping " + other->run.id + " (end_post_comp of " + a->run.id + ")");
          other->stopped_by_dependency = true;
          executor_->cancel(other->job);
        }
    }
    start_dependents(a->run.id, DependencyType::kStartPostComp);
    start_dependents(a->run.id, DependencyType::kStartPostInit);
  };

  for (const TestRun* c : cases)
    if (!deferred.count(c->id)) start(*c, 0);

  while (!active.empty()) {
    if (engine_stop_requested()) {
      cancel_all(active);
      throw Interrupted{};
    }
    if (failed_fast_) {  // a case was skipped by its pre-test under job_status_check
      log::error("job_status_check: a pre-test failed; cancelling everything else");
      cancel_all(active);
      return;
    }
    std::vector<std::unique_ptr<RunningJob>> finished;
    poll_round(active, finished);
    // Collect first: starting dependents appends to `active`.
    std::vector<std::string> now_running;
    for (auto& a : active) {
      bool running = a->job.state == JobState::kRunning || a->job.state == JobState::kCompleting;
      if (!a->reported_running && running) {
        a->reported_running = true;
        if (a->iteration == 0) now_running.push_back(a->run.id);
      }
    }
    for (const std::string& id : now_running) start_dependents(id, DependencyType::kStartPostInit);
    for (size_t i = 0; i < finished.size(); ++i) {
      settle(std::move(finished[i]));
      if (status_check_stopped) {
        // Cases that ended in the same round are results, not casualties: record them.
        for (size_t j = i + 1; j < finished.size(); ++j) record_ended_job(*finished[j], 0);
        return;
      }
    }
  }
}

void Engine::run_sweep_case(const TestRun& run) {
  for (int it = 0; it < run.iterations; ++it) {
    EnginePointRunner runner(*this, run, it, options_.max_in_flight);
    int rc = run_sweep(run, system_, runner);
    if (rc != 0) result_.exit_code = rc;
  }
}

EngineResult Engine::run() {
  // Everything that can be checked is checked before the first file is written.
  for (const TestRun& run : scenario_.runs) {
    const Workload& w = workload_of(run);
    if (w.submits_own_jobs() && !scheduler_of(system_).runs_self_submitting()) {
      std::vector<std::string> able;
      for (const Scheduler* s : all_schedulers())
        if (s->runs_self_submitting()) able.emplace_back(s->name());
      std::string msg = std::string(w.name()) + " runs only on " + join(able, " or ") +
                        " systems (it submits its own jobs), not on '" + system_.scheduler + "' (" +
                        system_.name + ")";
      if (!options_.allow_unsupported_workloads) throw ConfigError(run.loc, "Tests." + run.id, msg);
      log::warn(msg + "; generating the files anyway (dry-run)");
    }
    if (is_sweep(run) && !run.dependencies.empty())
      throw ConfigError(run.loc, "Tests." + run.id + ".dependencies",
                        "a swept case cannot have dependencies (its points run in parallel); "
                        "remove the dependencies or the list values");
  }
  if (!executor_) throw std::logic_error("the engine needs an executor");
  for (const TestRun& run : scenario_.runs) resolved_nodes(run);  // bad node specs fail early

  if (!options_.resume_root.empty()) {
    result_.results_root = fs::absolute(options_.resume_root);
    campaign_ = Campaign::reopen(result_.results_root, scenario_);
    log::info("resuming " + result_.results_root.string() + " (campaign " + campaign_->id() + ")");
  } else {
    std::string stamp = options_.timestamp.empty() ? now_stamp() : options_.timestamp;
    // Never reuse a folder: two runs started within the same second get "_2", "_3", ...
    fs::path base = fs::absolute(options_.output_path / (scenario_.name + "_" + stamp));
    if (!is_inside(options_.output_path, base))
      throw ConfigError(scenario_.loc, "name",
                        "results folder " + base.string() + " would be outside " +
                            fs::absolute(options_.output_path).string());
    std::error_code ec;
    fs::create_directories(options_.output_path, ec);
    if (ec || !fs::is_directory(options_.output_path))
      throw FileError("cannot create the output folder " +
                      fs::absolute(options_.output_path).string() + ": " +
                      (ec ? ec.message() : "it exists and is not a folder"));
    result_.results_root = base;
    for (int n = 2; !fs::create_directory(result_.results_root); ++n)
      result_.results_root = base.string() + "_" + std::to_string(n);
    log::info("results: " + result_.results_root.string());
    if (options_.journal)
      campaign_ = Campaign::create(result_.results_root, scenario_, options_.campaign_inputs);
  }
  result_.campaign = campaign_;

  std::vector<const TestRun*> plain;
  std::vector<const TestRun*> swept;
  for (const TestRun& run : scenario_.runs) (is_sweep(run) ? swept : plain).push_back(&run);
  try {
    if (!plain.empty()) run_plain_cases(plain);
    for (const TestRun* run : swept) {
      if (failed_fast_) break;
      run_sweep_case(*run);
    }
  } catch (const Interrupted&) {
    result_.interrupted = true;
    result_.detached = engine_detach_requested();
  }
  if (result_.interrupted) {
    result_.exit_code = result_.lost_scheduler.empty() ? 130 : kExitSchedulerUnreachable;
  } else {
    for (const RunRecord& r : result_.records)
      if (judged_failed(r) && r.step == 0) result_.exit_code = 1;
    if (failed_fast_) result_.exit_code = 1;
  }
  return std::move(result_);
}

}  // namespace

void request_engine_stop() {
  if (g_stop == kNoStop) g_stop = kStopAndCancel;
}
void request_engine_detach() {
  g_stop = kDetach;
}
bool engine_detach_requested() {
  return g_stop == kDetach;
}
bool engine_stop_requested() {
  return g_stop != kNoStop;
}
void clear_engine_stop() {
  g_stop = kNoStop;
}

void write_test_run_toml(const TestRun& run, const fs::path& run_dir, int iteration, int step,
                         const std::string& command) {
  Value doc = Value::table();
  doc.set("name", Value::string(run.id));
  doc.set("nnodes", Value::integer(run.num_nodes.empty() ? 1 : run.num_nodes.front()));
  Value nodes = Value::array();
  for (const auto& n : run.nodes) nodes.push_back(Value::string(n));
  doc.set("nodes", nodes);
  doc.set("output_path", Value::string(fs::absolute(run_dir).string()));
  doc.set("iterations", Value::integer(run.iterations));
  doc.set("current_iteration", Value::integer(iteration));
  doc.set("step", Value::integer(step));
  if (run.time_limit) doc.set("time_limit", Value::string(*run.time_limit));
  doc.set("test_cmd", Value::string(command));
  doc.set("full_cmd", Value::string(command));

  Value def = run.test.raw;
  if (!def.is_table()) def = Value::table();
  def.set("cmd_args", run.test.cmd_args);
  def.set("extra_env_vars", run.test.extra_env_vars);
  if (const Workload* w = find_workload(run.test.test_template_name))
    mask_secret_fields(*w, *def.find("cmd_args"));
  doc.set("test_definition", def);
  write_file_atomic(run_dir / "test-run.toml", to_toml_document(doc));
}

EngineResult run_scenario(const System& system, const Scenario& scenario,
                          const EngineOptions& options, Executor* executor) {
  Engine engine(system, scenario, options, executor);
  return engine.run();
}

}  // namespace bp
