// Cases that are not sweeps: iterations one after another, dependencies between cases
// (start_post_init, start_post_comp, end_post_comp) and job_status_check.
#include <functional>
#include <set>

#include "engine/engine_internal.h"
#include "util/log.h"

namespace bp {

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

}  // namespace bp
