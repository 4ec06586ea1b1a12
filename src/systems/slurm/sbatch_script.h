// The batch script benchpilot submits for workloads that do not submit themselves.
#pragma once

#include <string>

#include "core/executor.h"
#include "core/scheduler.h"
#include "core/system.h"

namespace bp {

// The srun line that runs req.spec.command on the allocation:
// srun [--nodelist="$<var>" --output=<dir>/stdout_"$<var>".txt --error=...] --export=ALL
//   --mpi=<mpi> [-N<n>] <spec.srun_args> <system extra_srun_args> <case extra_srun_args>
//   bash -c '<command>'
// (the first options only for a per-node launch; -N is left out when explicit nodes are given:
// the allocation is exactly those nodes; --mpi when the spec runs a single-process program or
// the system's mpi is empty; spec.srun_args carry the workload's container.) Every value is
// shell-quoted.
std::string make_srun_line(const System& system, const JobRequest& req,
                           const PerNodeLaunch* per_node = nullptr);

// "#!/bin/bash", the extras' comment, then the #SBATCH directives: job name, output/error
// files in the run dir, partition, account, reservation, distribution, node list or count +
// exclusions, GPU directives when extras.gpu_directives and the system has gpus_per_node,
// tasks per node, time limit, each extra_sbatch_args entry, each of the extras' directives.
// Throws ValueError on a control character (a newline would end the directive).
std::string make_sbatch_header(const System& system, const JobRequest& req,
                               const BatchHeaderExtras& extras);

// The whole script of a job benchpilot submits: the header, then the srun line. Secrets never
// appear: the job inherits them from sbatch's environment.
std::string make_sbatch_script(const System& system, const JobRequest& req, bool gpu_directives);

// The reservation named in extra_srun_args ("--reservation X" or "--reservation=X"), or "".
std::string reservation_from_srun_args(const std::string& extra_srun_args);

}  // namespace bp
