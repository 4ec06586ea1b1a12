#include "engine/engine.h"

#include <csignal>
#include <ctime>

#include "campaign/campaign.h"
#include "core/scheduler.h"
#include "engine/engine_internal.h"
#include "engine/job_loop.h"
#include "engine/preflight.h"
#include "sweep/dse_driver.h"
#include "util/error.h"
#include "util/files.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/time_format.h"

namespace bp {

namespace {

// What Ctrl-C (or a test) asked of the engine; a sig_atomic_t because a signal handler sets it.
enum StopRequest : std::sig_atomic_t {
  kNoStop = 0,
  kStopAndCancel = 1,  // cancel the jobs and end (request_engine_stop)
  kDetach = 2,         // leave the jobs running for a later `resume` (request_engine_detach)
};
volatile std::sig_atomic_t g_stop = kNoStop;

std::string now_stamp() {
  return format_time(std::time(nullptr), "%Y-%m-%d_%H-%M-%S");
}

// A scenario from start to end: checks, the results folder (and campaign), the plain cases,
// then the sweeps, each through one JobLoop; then the exit code.
class Engine {
 public:
  Engine(const System& system, const Scenario& scenario, const EngineOptions& options,
         Executor* executor)
      : system_(system), scenario_(scenario), options_(options), executor_(executor) {}

  EngineResult run();

 private:
  void open_results_folder();
  // The cases, plain ones first; Interrupted when a stop was requested.
  void run_cases(JobLoop& loop);

  const System& system_;
  const Scenario& scenario_;
  const EngineOptions& options_;
  Executor* executor_;
  EngineResult result_;
  std::shared_ptr<Campaign> campaign_;
  bool failed_fast_ = false;  // job_status_check saw a failure: nothing more was started
};

}  // namespace

// A resumed campaign's folder, or a new one (campaign/campaign.h: create_results_folder) with
// its journal.
void Engine::open_results_folder() {
  if (!options_.resume_root.empty()) {
    result_.results_root = fs::absolute(options_.resume_root);
    campaign_ = Campaign::reopen(result_.results_root, scenario_);
    log::info("resuming " + result_.results_root.string() + " (campaign " + campaign_->id() + ")");
  } else {
    std::string stamp = options_.timestamp.empty() ? now_stamp() : options_.timestamp;
    result_.results_root = create_results_folder(options_.output_path, scenario_, stamp);
    log::info("results: " + result_.results_root.string());
    if (options_.journal)
      campaign_ = Campaign::create(result_.results_root, scenario_, options_.campaign_inputs);
  }
}

void Engine::run_cases(JobLoop& loop) {
  std::vector<const TestRun*> plain;
  std::vector<const TestRun*> swept;
  for (const TestRun& run : scenario_.runs) (is_sweep(run) ? swept : plain).push_back(&run);
  if (!plain.empty()) failed_fast_ = run_plain_cases(loop, scenario_.job_status_check, plain);
  for (const TestRun* run : swept) {
    if (failed_fast_) break;
    if (int rc = run_sweep_case(loop, system_, *run, options_.max_in_flight); rc != 0)
      result_.exit_code = rc;
  }
}

EngineResult Engine::run() {
  // Everything that can be checked is checked before the first file is written.
  check_engine_can_run(system_, scenario_,
                       options_.allow_unsupported_workloads ? UnsupportedWorkloads::kWarnAndGenerate
                                                            : UnsupportedWorkloads::kRefuse);
  if (!executor_) throw std::logic_error("the engine needs an executor");
  NodeNames nodes(system_);
  for (const TestRun& run : scenario_.runs) nodes.of(run);  // bad node specs fail early

  open_results_folder();
  result_.campaign = campaign_;

  JobLoop loop(system_, options_, *executor_, result_.results_root, campaign_.get(),
               std::move(nodes));
  try {
    run_cases(loop);
  } catch (const Interrupted&) {
    result_.interrupted = true;
    result_.detached = engine_detach_requested();
  }
  result_.records = std::move(loop.records());
  result_.lost_scheduler = loop.lost_scheduler();
  if (result_.interrupted) {
    result_.exit_code = result_.lost_scheduler.empty() ? 130 : kExitSchedulerUnreachable;
  } else {
    for (const RunRecord& r : result_.records)
      if (judged_failed(r) && r.step == 0) result_.exit_code = 1;
    if (failed_fast_) result_.exit_code = 1;
  }
  return std::move(result_);
}

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
  doc.set("nnodes", Value::integer(first_num_nodes(run)));
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
