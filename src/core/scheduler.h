// The interface every scheduler implements (Slurm, jobs run on this machine), and the registry.
//
// A scheduler is one folder under src/systems/ plus one row in src/systems/registry.cc;
// nothing outside that folder names it. A row is complete: its name, the system-TOML keys it
// accepts and how they are checked, the executor that submits and watches jobs, how a case's
// `nodes` become node names, the probe that learns what the TOML leaves open, and the reader of
// the job record file its executor writes (one file format, read where it is written).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job_record.h"
#include "core/system.h"

namespace bp {

class Executor;
class TableFields;  // config/schema.h
struct JobRequest;  // core/executor.h

// What a workload that writes a batch script of its own (Megatron-Bridge's pre-test gate) adds
// to the header the scheduler writes for a JobRequest.
struct BatchHeaderExtras {
  std::string comment;                        // one line after "#!/bin/bash" (without "# ")
  bool gpu_directives = false;                // the cluster accepts GPU directives
  std::vector<std::string> extra_directives;  // options after the system's extra_sbatch_args
};

// A launch that runs once per node, inside a shell loop over the allocation's nodes: the
// variable holding the node's name and the folder of the node's output files.
struct PerNodeLaunch {
  std::string node_variable;  // a shell variable name, e.g. "_node"
  std::filesystem::path output_dir;
};

// One output file of a per-node launch, `stream` being "stdout" or "stderr", as one shell word:
// '<output_dir>/stdout_'"$_node".txt (the folder quoted, the node's variable expanded).
std::string per_node_output(const PerNodeLaunch& launch, std::string_view stream);

// How many nodes the system TOML lists for jobs, and where ("partition 'p1'").
struct NodeCapacity {
  size_t nodes = 0;  // 0: the TOML does not say
  std::string where;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;

  // The `scheduler` value of a system TOML that selects this row.
  virtual std::string_view name() const = 0;

  // System-TOML keys this scheduler accepts besides the common ones (loaders/load_system.cc).
  virtual std::vector<std::string> system_keys() const = 0;

  // Reads and checks those keys into `system` (its generic fields, monitor_interval's default
  // and scheduler_settings). Throws ConfigError naming the file, line and key.
  virtual void read_system(const TableFields& fields, System& system) const = 0;

  // Whether commands that submit their own jobs (RunSpec::self_submitting, e.g.
  // Megatron-Bridge's launcher) can run on this system.
  virtual bool runs_self_submitting() const = 0;

  // The executor that submits this system's jobs and watches them.
  virtual std::unique_ptr<Executor> make_executor(const System& system) const = 0;

  // A case's `nodes` entries as node names. Throws ValueError naming a bad entry.
  virtual std::vector<std::string> resolve_nodes(const System& system,
                                                 const std::vector<std::string>& specs) const = 0;

  // The nodes the system TOML lists for jobs, to refuse a larger num_nodes before anything is
  // written. Throws ConfigError naming the key when the TOML's node lists do not parse.
  virtual NodeCapacity listed_nodes(const System& system) const = 0;

  // A shell command line that runs `command` (already quoted) once on one compute node and
  // waits for it, e.g. to import a container image where jobs will find it (`install`).
  virtual std::string on_compute_node(const System& system, const std::string& job_name,
                                      const std::string& command) const = 0;

  // Asks the scheduler, once before anything is submitted (never in dry-run), what the system
  // TOML leaves open, and writes it into `system` (Slurm: supports_gpu_directives from one
  // `scontrol show config`). The executor and the workloads then read the answer from there.
  virtual void probe(System& system) const = 0;

  // The file its executor writes into a run folder when a job ended (Executor::
  // write_job_metadata), e.g. "<scheduler>-job.toml"; empty when it writes none.
  virtual std::string_view job_record_file() const = 0;

  // That file in `run_dir`, read where it is written (core/job_record.h); nullopt when the
  // folder has none. Never throws for a damaged file: the record says why it is unreadable.
  virtual std::optional<JobRecord> read_job_record(const std::filesystem::path& run_dir) const = 0;

  // The job states, as the scheduler's commands print them, in which a job may still run
  // (pending, running, completing): for scripts that watch a job from inside another job (a
  // workload's pre-test gate keeps a bash copy, which its test compares with this list).
  // Empty when the scheduler has no such commands.
  virtual std::vector<std::string> live_job_states() const = 0;

  // Batch scripts of workloads that write their own (a job beside the ones the executor
  // submits), written by the same code, with the same checks and quoting, as the scheduler's
  // own. The header: "#!/bin/bash", the extras' comment, the directives for `req` (job name,
  // req.run_dir's stdout.txt and stderr.txt, partition, resources, time limit, the system's
  // extra directives) and the extras' directives. Throws ValueError naming a value that cannot
  // be a directive; Error when this scheduler has no batch scripts.
  virtual std::string batch_header(const System& system, const JobRequest& req,
                                   const BatchHeaderExtras& extras) const;

  // The line that starts req.spec.command on the allocation, or, given `per_node`, on the node
  // named by its variable with that node's own output files.
  virtual std::string launch_line(const System& system, const JobRequest& req,
                                  const PerNodeLaunch* per_node) const;
};

// Every row, in registry order.
std::vector<const Scheduler*> all_schedulers();
std::vector<std::string> scheduler_names();
// nullptr when no row has this name.
const Scheduler* find_scheduler(std::string_view name);
// The system's row. Throws ValueError naming the known schedulers.
const Scheduler& scheduler_of(const System& system);

}  // namespace bp
