// A swept case: the sweep driver (sweep/dse_driver.h) proposes points, EnginePointRunner runs
// each through the engine's job loop (engine/job_loop.h) and hands back how it went.
#include <algorithm>
#include <exception>

#include "engine/engine_internal.h"
#include "engine/job_loop.h"
#include "engine/resume.h"
#include "sweep/dse_driver.h"
#include "sweep/param_space.h"
#include "sweep/point_runner.h"
#include "util/log.h"

namespace bp {

namespace {

class EnginePointRunner : public PointRunner {
 public:
  EnginePointRunner(JobLoop& loop, const TestRun& base, int iteration, int max_in_flight)
      : loop_(loop),
        base_(base),
        iteration_(iteration),
        max_in_flight_(max_in_flight),
        replay_(loop.campaign(), base.id, iteration) {
    case_dir_ = loop.root() / base.id / std::to_string(iteration);
    fs::create_directories(case_dir_);
  }
  ~EnginePointRunner() override {
    // Unwinding from an error (a full disk, say): leave the jobs to run, as on SIGHUP; the
    // journal knows them and a resume collects them. Never throw from here.
    if (std::uncaught_exceptions() > 0) {
      loop_.detach_all(active_);
      return;
    }
    try {
      loop_.cancel_all(active_);
    } catch (const std::exception& e) {
      log::error(std::string("cancelling the sweep's jobs failed: ") + e.what());
    }
  }

  void start(int step, const TestRun& point) override {
    if (engine_stop_requested()) throw Interrupted{};
    fs::path dir = case_dir_ / std::to_string(step);
    auto params = swept_params(point);
    if (!loop_.pre_tests_pass(point, dir, iteration_, step, params)) {
      PointResult r;
      r.step = step;
      r.ok = false;
      r.message = loop_.records().back().message;
      r.run_dir = dir;
      done_.push_back(r);
      return;
    }
    std::unique_ptr<RunningJob> a = loop_.start_job(point, dir, iteration_, step);
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
        loop_.records().push_back(std::move(rec));
      }
    while (out.empty() && !active_.empty()) {
      loop_.stop_if_requested(active_);
      std::vector<std::unique_ptr<RunningJob>> finished;
      loop_.poll_round(active_, finished);
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
    PointResult r = point_result(loop_.record_ended_job(a, batch));
    loop_.run_post_tests(a, r.run_dir);
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

  JobLoop& loop_;
  const TestRun& base_;
  ParamSpace space_ = ParamSpace::of(base_);
  int iteration_;
  int max_in_flight_;
  fs::path case_dir_;
  std::vector<std::unique_ptr<RunningJob>> active_;
  std::vector<PointResult> done_;
  Replay replay_;  // resume: finished points of an earlier session, handed back in order
};

}  // namespace

int run_sweep_case(JobLoop& loop, const System& system, const TestRun& run, int max_in_flight) {
  int exit_code = 0;
  for (int it = 0; it < run.iterations; ++it) {
    EnginePointRunner runner(loop, run, it, max_in_flight);
    int rc = run_sweep(run, system, runner);
    if (rc != 0) exit_code = rc;
  }
  return exit_code;
}

}  // namespace bp
