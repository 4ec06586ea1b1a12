// Cases that are not sweeps: iterations one after another, dependencies between cases
// (start_post_init, start_post_comp, end_post_comp) and job_status_check.
#include <map>
#include <set>

#include "engine/engine_internal.h"
#include "engine/job_loop.h"
#include "util/log.h"

namespace bp {

namespace {

// Starts the plain cases in dependency order and waits for them. A case with a start_post_*
// dependency is started by its parent (start_dependents); an end_post_comp dependent starts
// with the others and is stopped when its parent's last iteration ends.
class PlainCaseScheduler {
 public:
  PlainCaseScheduler(JobLoop& loop, bool job_status_check, const std::vector<const TestRun*>& cases,
                     std::vector<std::unique_ptr<RunningJob>>& active);
  void run();
  // job_status_check saw a failure (a job's or a pre-test's): nothing more was started.
  bool failed_fast() const { return failed_fast_; }

 private:
  void start(const TestRun& run, int iteration);
  void start_dependents(const std::string& parent, DependencyType type);
  // The cases that waited for the first iteration of a case to run (start_post_init).
  void start_dependents_of_running_cases();
  // Records a job that ended, runs its post-tests and starts what waited for it: its next
  // iteration after the last, its dependents.
  void settle(std::unique_ptr<RunningJob> a);
  // A case's last iteration ended: its end_post_comp dependents are stopped (not a failure).
  void stop_end_post_comp_dependents(const std::string& parent);

  JobLoop& loop_;
  const bool job_status_check_;
  const std::vector<const TestRun*>& cases_;
  std::vector<std::unique_ptr<RunningJob>>& active_;
  // Which cases wait for which.
  std::map<std::string, std::vector<std::pair<DependencyType, const TestRun*>>> dependents_;
  std::set<std::string> deferred_;  // started by their parent, not at the beginning
  std::set<std::string> started_;
  bool failed_fast_ = false;           // job_status_check saw a failure: start nothing more
  bool status_check_stopped_ = false;  // job_status_check cancelled everything
};

PlainCaseScheduler::PlainCaseScheduler(JobLoop& loop, bool job_status_check,
                                       const std::vector<const TestRun*>& cases,
                                       std::vector<std::unique_ptr<RunningJob>>& active)
    : loop_(loop), job_status_check_(job_status_check), cases_(cases), active_(active) {
  for (const TestRun* c : cases) {
    for (const Dependency& d : c->dependencies) {
      dependents_[d.id].emplace_back(d.type, c);
      if (d.type != DependencyType::kEndPostComp) deferred_.insert(c->id);
    }
  }
}

void PlainCaseScheduler::start(const TestRun& run, int iteration) {
  if (failed_fast_) return;  // a pre-test failed under job_status_check
  fs::path dir = loop_.root() / run.id / std::to_string(iteration);
  started_.insert(run.id);
  if (!loop_.pre_tests_pass(run, dir, iteration, 0, {})) {
    if (job_status_check_)
      failed_fast_ = true;
    else if (iteration + 1 < run.iterations || dependents_.count(run.id))
      log::warn(run.id +
                " was skipped: its later iterations and the cases that depend on it "
                "are not started");
    return;
  }
  std::unique_ptr<RunningJob> a = loop_.start_job(run, dir, iteration, 0);
  // A job never submitted needs no waiting: what follows it starts now.
  if (a->job.state == JobState::kNotSubmitted)
    settle(std::move(a));
  else
    active_.push_back(std::move(a));
}

void PlainCaseScheduler::start_dependents(const std::string& parent, DependencyType type) {
  for (auto& [t, child] : dependents_[parent])
    if (t == type && !started_.count(child->id)) {
      log::info("starting " + child->id + " (" + std::string(to_string(type)) + " of " + parent +
                ")");
      start(*child, 0);
    }
}

void PlainCaseScheduler::start_dependents_of_running_cases() {
  // Collect first: starting dependents appends to `active_`.
  std::vector<std::string> now_running;
  for (auto& a : active_) {
    bool running = a->job.state == JobState::kRunning || a->job.state == JobState::kCompleting;
    if (!a->reported_running && running) {
      a->reported_running = true;
      if (a->iteration == 0) now_running.push_back(a->run.id);
    }
  }
  for (const std::string& id : now_running) start_dependents(id, DependencyType::kStartPostInit);
}

void PlainCaseScheduler::settle(std::unique_ptr<RunningJob> a) {
  const RunRecord& rec = loop_.record_ended_job(*a, 0);
  const bool failed = judged_failed(rec);
  const fs::path run_dir = rec.run_dir;  // copied: post-tests add records
  loop_.run_post_tests(*a, run_dir);
  if (!a->reported_running && a->iteration == 0)
    start_dependents(a->run.id, DependencyType::kStartPostInit);
  if (failed && job_status_check_) {
    log::error("job_status_check: " + a->run.id + " failed; cancelling everything else");
    failed_fast_ = true;
    status_check_stopped_ = true;
    loop_.cancel_all(active_);
    return;
  }
  if (a->iteration + 1 < a->run.iterations) {  // iterations follow each other
    start(a->run, a->iteration + 1);
    return;
  }
  stop_end_post_comp_dependents(a->run.id);
  start_dependents(a->run.id, DependencyType::kStartPostComp);
  start_dependents(a->run.id, DependencyType::kStartPostInit);
}

void PlainCaseScheduler::stop_end_post_comp_dependents(const std::string& parent) {
  for (auto& other : active_) {
    for (const Dependency& d : other->run.dependencies)
      if (d.type == DependencyType::kEndPostComp && d.id == parent &&
          !is_terminal(other->job.state)) {
        log::info("stopping " + other->run.id + " (end_post_comp of " + parent + ")");
        loop_.stop_by_dependency(*other);
      }
  }
}

void PlainCaseScheduler::run() {
  for (const TestRun* c : cases_)
    if (!deferred_.count(c->id)) start(*c, 0);
  while (!active_.empty()) {
    loop_.stop_if_requested(active_);
    if (failed_fast_) {  // a case was skipped by its pre-test under job_status_check
      log::error("job_status_check: a pre-test failed; cancelling everything else");
      loop_.cancel_all(active_);
      return;
    }
    std::vector<std::unique_ptr<RunningJob>> finished;
    loop_.poll_round(active_, finished);
    start_dependents_of_running_cases();
    for (size_t i = 0; i < finished.size(); ++i) {
      settle(std::move(finished[i]));
      if (status_check_stopped_) {
        // Cases that ended in the same round are results, not casualties: record them.
        for (size_t j = i + 1; j < finished.size(); ++j) loop_.record_ended_job(*finished[j], 0);
        return;
      }
    }
  }
}

}  // namespace

bool run_plain_cases(JobLoop& loop, bool job_status_check,
                     const std::vector<const TestRun*>& cases) {
  std::vector<std::unique_ptr<RunningJob>> active;
  try {
    PlainCaseScheduler scheduler(loop, job_status_check, cases, active);
    scheduler.run();
    return scheduler.failed_fast();
  } catch (const Interrupted&) {  // e.g. Ctrl-C while waiting for a pre-test
    loop.cancel_all(active);
    throw;
  } catch (const std::exception&) {  // e.g. the journal hit a full disk: keep what runs
    loop.detach_all(active);
    throw;
  }
}

}  // namespace bp
