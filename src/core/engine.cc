#include "core/engine.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "config/toml_reader.h"
#include "core/executor.h"
#include "core/workload.h"
#include "sweep/dse_driver.h"
#include "sweep/param_space.h"
#include "sweep/point_runner.h"
#include "util/files.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_stop = 0;

// Thrown when a stop was requested, to unwind out of sweeps.
struct Interrupted {};

std::string now_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d_%H-%M-%S", &tm);
  return buf;
}

const Workload& workload_of(const TestRun& run) {
  const Workload* w = find_workload(run.test.test_template_name);
  if (!w)
    throw ConfigError(run.test.loc, "test_template_name",
                      "unknown workload '" + run.test.test_template_name + "'");
  return *w;
}

std::string run_label(const std::string& case_id, int iteration, int step) {
  std::string s = case_id + "/" + std::to_string(iteration);
  if (step > 0) s += "/" + std::to_string(step);
  return s;
}

// A job the engine started and waits for.
struct Active {
  Job job;
  TestRun run;  // with the point applied
  int iteration = 0;
  int step = 0;
  std::vector<std::pair<std::string, Value>> params;
  bool reported_running = false;
  bool stopped_by_dependency = false;  // cancelled on purpose (end_post_comp): not a failure
};

class Engine {
 public:
  Engine(const System& system, const Scenario& scenario, const EngineOptions& options,
         Executor* executor)
      : system_(system), scenario_(scenario), options_(options), executor_(executor) {}

  EngineResult run();

  // Creates the run dir with all generated files; returns what to execute.
  RunSpec prepare(const TestRun& run, const fs::path& dir, int iteration, int step);
  Job submit(const TestRun& run, const fs::path& dir, const RunSpec& spec);
  // One monitoring round; moves finished jobs out of `active` into `finished`.
  void poll_round(std::vector<std::unique_ptr<Active>>& active,
                  std::vector<std::unique_ptr<Active>>& finished);
  RunRecord finish(Active& a);
  RunRecord dry_record(const TestRun& run, const fs::path& dir, int iteration, int step,
                       std::vector<std::pair<std::string, Value>> params);
  void cancel_all(std::vector<std::unique_ptr<Active>>& active);
  bool dry_run() const { return options_.dry_run; }
  const fs::path& root() const { return result_.results_root; }
  const System& system() const { return system_; }
  int max_in_flight() const { return options_.max_in_flight; }
  std::vector<RunRecord>& records() { return result_.records; }
  // The case's node specs resolved to names, once per case.
  const std::vector<std::string>& resolved_nodes(const TestRun& run);

 private:
  std::map<std::string, std::vector<std::string>> nodes_cache_;
  void run_plain_cases(const std::vector<const TestRun*>& cases);
  void run_sweep_case(const TestRun& run);

  const System& system_;
  const Scenario& scenario_;
  const EngineOptions& options_;
  Executor* executor_;
  EngineResult result_;
  int quiet_rounds_ = 0;
  bool failed_fast_ = false;
};

class EnginePointRunner : public PointRunner {
 public:
  EnginePointRunner(Engine& engine, const TestRun& base, int iteration, int max_in_flight)
      : engine_(engine), base_(base), iteration_(iteration), max_in_flight_(max_in_flight) {
    case_dir_ = engine.root() / base.id / std::to_string(iteration);
    fs::create_directories(case_dir_);
  }
  ~EnginePointRunner() override { engine_.cancel_all(active_); }

  void start(int step, const TestRun& point) override {
    if (engine_stop_requested()) throw Interrupted{};
    fs::path dir = case_dir_ / std::to_string(step);
    RunSpec spec = engine_.prepare(point, dir, iteration_, step);
    auto params = swept_params(point);
    if (engine_.dry_run()) {
      RunRecord rec = engine_.dry_record(point, dir, iteration_, step, params);
      PointResult r;
      r.step = step;
      r.ok = false;
      r.message = "dry-run";
      r.run_dir = dir;
      done_.push_back(r);
      engine_.records().push_back(std::move(rec));
      return;
    }
    auto a = std::make_unique<Active>();
    a->run = point;
    a->iteration = iteration_;
    a->step = step;
    a->params = std::move(params);
    a->job = engine_.submit(point, dir, spec);
    active_.push_back(std::move(a));
  }

  std::vector<PointResult> wait_any() override {
    std::vector<PointResult> out;
    std::swap(out, done_);
    while (out.empty() && !active_.empty()) {
      if (engine_stop_requested()) {
        engine_.cancel_all(active_);
        throw Interrupted{};
      }
      std::vector<std::unique_ptr<Active>> finished;
      engine_.poll_round(active_, finished);
      for (auto& a : finished) {
        RunRecord rec = engine_.finish(*a);
        PointResult r;
        r.step = a->step;
        r.ok = rec.passed;
        r.message = rec.message;
        r.metrics = rec.metrics;
        r.run_dir = rec.run_dir;
        out.push_back(std::move(r));
        engine_.records().push_back(std::move(rec));
      }
    }
    return out;
  }

  int in_flight() const override { return static_cast<int>(active_.size()); }
  int max_in_flight() const override {
    if (const Value* v = base_.test.agent_config.find("max_in_flight"); v && v->is_int())
      return std::max<int>(1, static_cast<int>(v->as_int()));
    return max_in_flight_;
  }
  bool dry_run() const override { return engine_.dry_run(); }
  fs::path case_dir() const override { return case_dir_; }

 private:
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

  Engine& engine_;
  const TestRun& base_;
  ParamSpace space_ = ParamSpace::of(base_);
  int iteration_;
  int max_in_flight_;
  fs::path case_dir_;
  std::vector<std::unique_ptr<Active>> active_;
  std::vector<PointResult> done_;
};

const std::vector<std::string>& Engine::resolved_nodes(const TestRun& run) {
  auto it = nodes_cache_.find(run.id);
  if (it != nodes_cache_.end()) return it->second;
  std::vector<std::string> nodes = run.nodes;
  if (options_.resolve_nodes && !nodes.empty()) {
    try {
      nodes = options_.resolve_nodes(run.nodes);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(run.loc, "Tests." + run.id + ".nodes", e.what());
    }
  }
  return nodes_cache_[run.id] = std::move(nodes);
}

RunSpec Engine::prepare(const TestRun& run, const fs::path& dir, int iteration, int step) {
  // Case ids are safe names (no "/" or ".."), so this holds by construction; checked anyway
  // because a folder outside the results would be written with the user's rights.
  if (!is_inside(root(), dir))
    throw ConfigError(
        run.loc, "Tests." + run.id,
        "run folder " + dir.string() + " would be outside the results folder " + root().string());
  fs::create_directories(dir);
  const Workload& w = workload_of(run);
  RunContext ctx{system_,         run, fs::absolute(dir), 1, {}, options_.gpu_directives_supported,
                 options_.dry_run};
  ctx.num_nodes = run.num_nodes.empty() ? 1 : static_cast<int>(run.num_nodes.front());
  ctx.resolved_nodes = resolved_nodes(run);
  RunSpec spec = w.prepare(ctx);
  write_test_run_toml(run, dir, iteration, step, spec.command);
  return spec;
}

Job Engine::submit(const TestRun& run, const fs::path& dir, const RunSpec& spec) {
  JobRequest req;
  req.name = run.id;
  req.run_dir = fs::absolute(dir);
  req.spec = spec;
  req.num_nodes = run.num_nodes.empty() ? 1 : static_cast<int>(run.num_nodes.front());
  req.nodes = resolved_nodes(run);
  req.exclude_nodes = run.exclude_nodes;
  req.time_limit = run.time_limit;
  req.extra_srun_args = run.extra_srun_args;
  Job job = executor_->submit(req);
  log::info("submitted " + fs::relative(dir, root()).string() +
            (job.id.empty() ? "" : " as job " + job.id));
  quiet_rounds_ = 0;
  return job;
}

void Engine::poll_round(std::vector<std::unique_ptr<Active>>& active,
                        std::vector<std::unique_ptr<Active>>& finished) {
  // Jobs that failed at submission are finished without asking the scheduler.
  bool any_terminal = false;
  for (auto& a : active) any_terminal |= is_terminal(a->job.state);
  if (!any_terminal) {
    auto wait = executor_->next_poll_interval(quiet_rounds_);
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until && !engine_stop_requested())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (engine_stop_requested()) return;
    std::vector<Job*> jobs;
    std::vector<JobState> before;
    for (auto& a : active) {
      jobs.push_back(&a->job);
      before.push_back(a->job.state);
    }
    executor_->poll(jobs);
    bool changed = false;
    for (size_t i = 0; i < jobs.size(); ++i) changed |= jobs[i]->state != before[i];
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

RunRecord Engine::finish(Active& a) {
  const Workload& w = workload_of(a.run);
  fs::path dir = a.job.run_dir;
  if (executor_) executor_->write_job_metadata(a.job);
  try {
    w.write_report(dir);
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
  rec.state = std::string(to_string(a.job.state));
  RunVerdict v = w.verdict(dir);
  bool job_ok = a.job.state == JobState::kCompleted ||
                (a.stopped_by_dependency && a.job.state == JobState::kCancelled);
  rec.passed = job_ok && v.ok;
  if (!job_ok) {
    rec.message = "job " + (a.job.id.empty() ? std::string("(no id)") : a.job.id) + " ended " +
                  rec.state + (a.job.reason.empty() ? "" : " (" + a.job.reason + ")");
    std::string details = !v.ok && !v.message.empty() ? v.message : w.failure_details(dir);
    if (!details.empty()) rec.message += "\n" + details;
  } else if (!v.ok) {
    rec.message = v.message;
  }
  std::vector<std::string> names = w.metric_names();
  for (const std::string& m : a.run.test.agent_metrics)
    if (std::find(names.begin(), names.end(), m) == names.end()) names.push_back(m);
  for (const std::string& m : names)
    if (auto val = w.metric(dir, m)) rec.metrics[m] = *val;
  std::string label = run_label(a.run.id, a.iteration, a.step);
  if (rec.passed)
    log::info(label + ": PASSED (" + rec.state + ")");
  else
    log::error(label + ": FAILED: " + rec.message);
  return rec;
}

RunRecord Engine::dry_record(const TestRun& run, const fs::path& dir, int iteration, int step,
                             std::vector<std::pair<std::string, Value>> params) {
  RunRecord rec;
  rec.case_id = run.id;
  rec.iteration = iteration;
  rec.step = step;
  rec.run_dir = fs::absolute(dir);
  rec.params = std::move(params);
  rec.state = "DRY-RUN";
  return rec;
}

void Engine::cancel_all(std::vector<std::unique_ptr<Active>>& active) {
  for (auto& a : active) {
    if (is_terminal(a->job.state)) continue;
    log::warn("cancelling " + run_label(a->run.id, a->iteration, a->step) +
              (a->job.id.empty() ? "" : " (job " + a->job.id + ")"));
    executor_->cancel(a->job);
    a->job.state = JobState::kCancelled;
    a->job.reason = "cancelled by benchpilot";
    records().push_back(finish(*a));
  }
  active.clear();
}

void Engine::run_plain_cases(const std::vector<const TestRun*>& cases) {
  // Which cases wait for which: start_post_* dependents are started by their parent.
  std::map<std::string, std::vector<std::pair<DependencyType, const TestRun*>>> dependents;
  std::set<std::string> deferred;
  for (const TestRun* c : cases) {
    for (const Dependency& d : c->dependencies) {
      dependents[d.id].emplace_back(d.type, c);
      if (d.type != DependencyType::kEndPostComp) deferred.insert(c->id);
    }
  }
  std::vector<std::unique_ptr<Active>> active;
  std::set<std::string> started;
  auto start = [&](const TestRun& run, int iteration) {
    fs::path dir = root() / run.id / std::to_string(iteration);
    RunSpec spec = prepare(run, dir, iteration, 0);
    started.insert(run.id);
    if (dry_run()) {
      records().push_back(dry_record(run, dir, iteration, 0, {}));
      return;
    }
    auto a = std::make_unique<Active>();
    a->run = run;
    a->iteration = iteration;
    a->job = submit(run, dir, spec);
    active.push_back(std::move(a));
  };
  auto start_dependents = [&](const std::string& parent, DependencyType type) {
    for (auto& [t, child] : dependents[parent])
      if (t == type && !started.count(child->id)) {
        log::info("starting " + child->id + " (" + std::string(to_string(type)) + " of " + parent +
                  ")");
        for (int it = 0; it < (dry_run() ? child->iterations : 1); ++it) start(*child, it);
      }
  };

  for (const TestRun* c : cases) {
    if (deferred.count(c->id)) continue;
    int n = dry_run() ? c->iterations : 1;  // in run mode iterations follow each other
    for (int it = 0; it < n; ++it) start(*c, it);
  }
  if (dry_run()) {
    // Dependents of every kind are generated too, so the user sees all scripts.
    for (const TestRun* c : cases)
      if (!started.count(c->id))
        for (int it = 0; it < c->iterations; ++it) start(*c, it);
    return;
  }

  while (!active.empty()) {
    if (engine_stop_requested()) {
      cancel_all(active);
      throw Interrupted{};
    }
    std::vector<std::unique_ptr<Active>> finished;
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
    for (auto& a : finished) {
      RunRecord rec = finish(*a);
      bool passed = rec.passed;
      records().push_back(std::move(rec));
      if (!a->reported_running && a->iteration == 0)
        start_dependents(a->run.id, DependencyType::kStartPostInit);
      if (!passed && scenario_.job_status_check) {
        log::error("job_status_check: " + a->run.id + " failed; cancelling everything else");
        failed_fast_ = true;
        cancel_all(active);
        return;
      }
      if (a->iteration + 1 < a->run.iterations) {
        start(a->run, a->iteration + 1);
        continue;
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
    std::vector<std::string> schedulers = w.schedulers();
    if (std::find(schedulers.begin(), schedulers.end(), system_.scheduler) == schedulers.end()) {
      std::string msg = std::string(w.name()) + " runs only on " + join(schedulers, " or ") +
                        " systems, not on '" + system_.scheduler + "' (" + system_.name + ")";
      if (!dry_run()) throw ConfigError(run.loc, "Tests." + run.id, msg);
      log::warn(msg + "; generating the files anyway (dry-run)");
    }
    w.preflight(run.test);
    if (is_sweep(run) && !run.dependencies.empty())
      throw ConfigError(run.loc, "Tests." + run.id + ".dependencies",
                        "a swept case cannot have dependencies (its points run in parallel); "
                        "remove the dependencies or the list values");
  }
  if (!dry_run() && !executor_) throw std::logic_error("run mode needs an executor");
  for (const TestRun& run : scenario_.runs) resolved_nodes(run);  // bad node specs fail early

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
    throw std::runtime_error("cannot create the output folder " +
                             fs::absolute(options_.output_path).string() + ": " +
                             (ec ? ec.message() : "it exists and is not a folder"));
  result_.results_root = base;
  for (int n = 2; !fs::create_directory(result_.results_root); ++n)
    result_.results_root = base.string() + "_" + std::to_string(n);
  log::info("results: " + result_.results_root.string());

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
  }
  if (result_.interrupted) {
    result_.exit_code = 130;
  } else if (!dry_run()) {
    for (const RunRecord& r : result_.records)
      if (!r.passed && r.step == 0) result_.exit_code = 1;
    if (failed_fast_) result_.exit_code = 1;
  }
  return std::move(result_);
}

}  // namespace

void request_engine_stop() {
  g_stop = 1;
}
bool engine_stop_requested() {
  return g_stop != 0;
}
void clear_engine_stop() {
  g_stop = 0;
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
  if (const Workload* w = find_workload(run.test.test_template_name)) {
    Value* args = def.find("cmd_args");
    for (const std::string& secret : w->secret_fields())
      if (Value* v = args->find(secret); v && !(v->is_string() && v->as_string().empty()))
        *v = Value::string("***");
  }
  doc.set("test_definition", def);
  write_file_atomic(run_dir / "test-run.toml", to_toml_document(doc));
}

EngineResult run_scenario(const System& system, const Scenario& scenario,
                          const EngineOptions& options, Executor* executor) {
  Engine engine(system, scenario, options, executor);
  return engine.run();
}

}  // namespace bp
