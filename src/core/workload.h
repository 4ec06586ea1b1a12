// The interface every workload implements, and the registry.
//
// A workload is one folder under src/workloads/ plus one line in src/workloads/registry.cc.
// It mirrors CloudAI's split: definition (schema + validation), command generation for a
// system, and report/metrics.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/estimate.h"
#include "core/install.h"
#include "core/scenario.h"
#include "core/system.h"

namespace bp {

class ConstraintSet;  // sweep/constraints.h

// Everything a workload needs to generate the files of one run.
struct RunContext {
  const System& system;
  const TestRun& run;             // parameters of this point already applied
  std::filesystem::path run_dir;  // absolute; exists
  int num_nodes = 1;              // resolved for this point
  // Explicit nodes for this run, resolved from the case's `nodes` (sorted; may be empty).
  std::vector<std::string> resolved_nodes;
  // Whether the cluster accepts --gpus-per-node/--gres (the scheduler's probe, once).
  bool gpu_directives_supported = true;
  // The campaign's Slurm job comment for this point ("benchpilot:<campaign>:<point>"; empty in
  // dry-run). A workload that submits its own jobs passes it on, so a job whose id was never
  // recorded can still be found (engine/resume.h).
  std::string job_comment;
};

// What the system's runner executes for one run.
struct RunSpec {
  // Shell command line (run with /bin/bash). For self-submitting workloads this is run on the
  // submit node and must print "Submitted batch job <id>"; otherwise it is the body of the job.
  std::string command;
  // True when `command` submits its own Slurm job (Megatron-Bridge's launcher does), so the
  // Slurm runner executes it directly instead of wrapping it in an sbatch script.
  bool self_submitting = false;
  // Secrets and other variables given to the process that runs `command`. Never written to a
  // file: the generated scripts reference them as "$NAME".
  EnvVars process_env;
  // Extra arguments for the srun line that starts a batch command (container image and mounts,
  // "--ntasks=1" for single-process programs); ignored where there is no srun.
  std::vector<std::string> srun_args;
  // False for single-process programs: the srun line gets no --mpi flag.
  bool use_mpi = true;
};

// A series of numbers a workload offers for the HTML report, e.g. step time per step or bus
// bandwidth per message size. Series of several runs with the same `chart` share one chart.
struct ReportSeries {
  std::string chart;  // groups series into one chart, e.g. "bus-bandwidth"
  std::string title;  // the chart's title
  std::string x_label, y_label;
  bool log_x = false;  // e.g. message sizes
  std::vector<double> x, y;
};

// The verdict on a finished run, from its files.
struct RunVerdict {
  bool ok = false;
  std::string message;  // why it failed (e.g. the log's last lines); empty on success
  // The run never started on purpose (a pre-test gate stopped it); `message` says why.
  bool skipped = false;
};

// One column of the results table: a metric of this workload and how to print it.
struct ResultColumn {
  std::string metric;  // a name from metric_names()
  std::string header;  // "busbw peak (GB/s)"
  int decimals = 2;
  // Which way is better: heatmaps keep the best value per cell, and `compare` calls a change of
  // the comparison metric better or worse by it.
  bool higher_is_better = false;
  std::string unit;  // "GB/s", for verdict texts ("-5.1% vs 120.000 GB/s")
};

// A shell test over one output file of this workload (CloudAI's gen_srun_success_check), for
// gates that run the test inside another job: `condition` succeeds when the file shows a pass,
// `figure` prints the number the gate reports, `requirement` says in words what must hold.
struct OutputCheck {
  std::string condition;
  std::string figure;
  std::string figure_name;  // "bus bandwidth (GB/s)"
  std::string requirement;  // "Avg bus bandwidth >= 40 GB/s"
};

// Where a run's GPU count comes from, for plan's GPU-hours: a cmd_args field (with its default)
// or, when `field` is empty, num_nodes x the system's gpus_per_node.
struct GpuCountRule {
  std::string field;
  int64_t default_value = 0;
};

// What the results store keeps of a run to group and filter by (`history --model`), read from its
// test-run.toml's test definition.
struct RunFacts {
  std::string model;  // e.g. the model recipe; empty when the workload has none
  std::string gpu_type;
  std::string software_commit;  // commit of the benchmarked software's repository
};

// What a workload is: its constants, filled once (as LevelDB's Options), which the generic parts
// (loaders, plan, sweeps, reports, the store, compare) read instead of asking a virtual each.
struct WorkloadInfo {
  // The test_template_name this workload answers to (what a test TOML names it).
  std::string name;
  // cmd_args field names in schema order; sweeps enumerate list-valued fields in this order.
  std::vector<std::string> cmd_args_fields;
  // Secret cmd_args keys: masked in test-run.toml, passed through the process environment.
  std::vector<std::string> secret_fields;
  // Keys this workload reads from the system TOML (benchpilot extensions, accepted on any
  // system): the loader checks each is a one-line string and keeps it in
  // System::workload_settings.
  std::vector<std::string> system_keys;
  // Metric names this workload provides ("default" first).
  std::vector<std::string> metric_names = {"default"};
  // Metric columns of the results table, in order. The best point of a case is the passing run
  // with the highest reward (agent_metrics through the reward function), as in sweeps.
  std::vector<ResultColumn> result_columns;
  // The metric, one of result_columns, that `compare`, `history` and `run
  // --fail-on-regression` judge runs of this workload by; empty when runs are not compared.
  std::string comparison_metric;
  // The cmd_args field naming the container image, if any: the store records it, and `compare`
  // matches configurations across images (what is usually being compared).
  std::string image_field;
  // Sweep axes report.html's heatmaps put on x and y when both were swept (e.g. tensor x
  // pipeline parallelism); none: the first two swept axes.
  std::vector<std::string> heatmap_axes;
  // The files its reads write into a run folder (report.txt, ...), each with a few words, for
  // `list reports`.
  std::vector<std::string> report_files;
  // How plan counts the GPUs of one run.
  GpuCountRule gpu_count;
  // The rules that prune sweep points (sweep/constraints.h); nullptr when there are none.
  const ConstraintSet* constraints = nullptr;
  // What this workload predicts about a run before it is submitted (memory per GPU, ...), for
  // `estimate` and `plan`; nullptr when it predicts nothing.
  const Estimator* estimator = nullptr;
  // Its command submits its own batch jobs (RunSpec::self_submitting), as Megatron-Bridge's
  // launcher does; it then runs only where the scheduler's row says runs_self_submitting()
  // (core/scheduler.h).
  bool submits_own_jobs = false;
  // A test of this workload may name a NeMo-Run repository (`nemo_run_repo`, CloudAI's field
  // for launchers that run with NeMo-Run).
  bool takes_nemo_run_repo = false;
  // prepare() runs the scenario's pre-tests itself (Megatron-Bridge chains its training job
  // after a gate job); otherwise the engine runs them before the test.
  bool runs_own_pre_tests = false;
};

// When preflight() is asked: before a run (everything), or after `install` (only what needs
// the installed files, e.g. the pinned launcher's flags).
enum class PreflightMode { kBeforeRun, kAfterInstall };

// Everything a finished run yields, from one read of its files (Workload::read).
struct RunRead {
  RunVerdict verdict;
  // A few lines that explain why a run whose job failed went wrong (the end of its log), for
  // the failure message.
  std::string failure_details;
  // Values of info().metric_names; a metric that cannot be computed is absent.
  std::map<std::string, double> metrics;
  // Per-sample values of metrics (e.g. one per training step), oldest first, for the results
  // store's rank tests; none when only the means can be compared.
  std::map<std::string, std::vector<double>> samples;
  // Structured results beyond single numbers (e.g. bus bandwidth per message size) for
  // summary.json; none when there is nothing to add.
  Value details;
  // What the results store groups and filters runs by, from test-run.toml.
  RunFacts facts;
  // What the run measured of what the workload's estimator predicts (core/estimate.h): the step
  // time and the memory figures the log prints, from the same parse; empty for a workload that
  // predicts nothing.
  MeasuredRun measured;
  // What is large or writes files is made on demand from the same parse, never by reading the
  // logs again: report.html's series (none when unset), and the per-run report files
  // (info().report_files) that the commands writing files (run, generate-report) ask for and
  // index does not (nothing to write when unset).
  std::function<std::vector<ReportSeries>()> series;
  std::function<void()> write_reports;
};

class Workload {
 public:
  virtual ~Workload() = default;

  // Its constants (see WorkloadInfo).
  virtual const WorkloadInfo& info() const = 0;
  std::string_view name() const { return info().name; }

  // Checks a (merged) test definition: cmd_args types, required values, git repos. Throws
  // ConfigError naming the file, line and key. Emits warnings through the log.
  virtual void validate(const TestDefinition& test) const = 0;

  // Checks what must hold before anything is generated or submitted for a run, beyond the
  // schema: e.g. Megatron-Bridge needs an HF token from cmd_args or the HF_TOKEN variable, and
  // its flags must exist in the pinned launcher once that is installed. Throws ConfigError with
  // a message that says how to fix it. kBeforeRun: called before any file is written (again
  // after installation); kAfterInstall: by `install` once the test's installables are there,
  // checking only them (does nothing for what is not installed yet). verify-configs does not
  // call it.
  virtual void preflight(const TestDefinition& test, const System& system,
                         PreflightMode mode) const {
    (void)test;
    (void)system;
    (void)mode;
  }

  // What `install` must provide for this test on this system.
  virtual std::vector<Installable> installables(const TestDefinition&, const System&) const {
    return {};
  }

  // Writes the run's generated files into ctx.run_dir and returns what to execute.
  virtual RunSpec prepare(const RunContext& ctx) const = 0;

  // Everything a finished run's files yield (RunRead), from one read of its logs: the verdict,
  // the metrics and the rest for `run` at a job's end, generate-report, report.html, index and
  // compare alike. Must tolerate missing and damaged files.
  virtual RunRead read(const std::filesystem::path& run_dir) const = 0;

  // Whether run_dir holds a run of this workload, from its files alone (for results folders
  // without a test-run.toml naming the workload, e.g. CloudAI's).
  virtual bool recognizes(const std::filesystem::path& run_dir) const = 0;

  // A shell check over `output_file` when this workload can serve as a gate inside another
  // job; nullopt when it cannot. `output_file` is a shell word the caller quoted (it may expand
  // variables, e.g. "<dir>/stdout_${_node}.txt").
  virtual std::optional<OutputCheck> output_check(const TestRun& run,
                                                  const std::string& output_file) const {
    (void)run;
    (void)output_file;
    return std::nullopt;
  }
};

// The result columns of the named workloads (unknown names skipped), first-seen order, each
// metric once: the columns of a table or page that shows runs of several workloads.
std::vector<ResultColumn> result_columns_of(const std::vector<std::string>& workloads);

// The column of `w`'s comparison metric; nullopt when it compares nothing.
std::optional<ResultColumn> comparison_column(const Workload& w);

// GPUs of a finished run from its test-run.toml document, by w's gpu_count() rule (the rule's
// field, else nnodes x gpus_per_node); nullopt when that cannot be known.
std::optional<int64_t> gpus_of_run(const Workload& w, const Value& test_run,
                                   std::optional<int64_t> gpus_per_node);

// The end of <run_dir>/stderr.txt, where batch jobs write their errors: the failure details of a
// run whose own logs say nothing.
std::string stderr_tail(const std::filesystem::path& run_dir);

// Registry (src/workloads/registry.cc).
const Workload* find_workload(std::string_view test_template_name);
std::vector<std::string> workload_names();

// Replaces each of the workload's non-empty secret fields in `cmd_args` (a table) with "***":
// the one place that masks secrets in the files benchpilot writes (test-run.toml, the best
// point's TOML).
void mask_secret_fields(const Workload& w, Value& cmd_args);

}  // namespace bp
