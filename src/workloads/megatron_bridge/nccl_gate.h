// Megatron-Bridge's pre-test gate, as CloudAI's Megatron-Bridge workload runs it (2026): the
// scenario's pre_test hook runs as a batch job of its own on the nodes the training will use,
// each hook case once per node, independently and in parallel (for NCCL: an all-to-all per
// node with a minimum bus bandwidth). The training job is submitted with
// dependency=afterok:<gate job> and the gate's nodes, so a node that fails the check stops the
// training job from starting. benchpilot also cancels the training job when the gate fails
// (Slurm would leave it pending, DependencyNeverSatisfied) and does not submit it at all when
// the gate failed before the launcher ran.
//
// Files: <run_dir>/pre_hook_sbatch_script.sh, <run_dir>/pre_hook/{stdout,stderr}.txt,
// pre_hook/nodes.txt (the gate's nodes), pre_hook/results.txt (one line per hook case and node:
// "<case> <node> PASSED|FAILED <figure>", after "# <case>: <figure name>; requires <what>"),
// pre_hook/result (PASSED or FAILED), pre_test/<hook case>/stdout_<node>.txt.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/workload.h"

namespace bp::mbridge {

inline constexpr const char* kGateScript = "pre_hook_sbatch_script.sh";
inline constexpr const char* kGateDir = "pre_hook";

// Writes the gate's batch script for this run and returns the wrapper lines that submit it,
// wait until it has its nodes, and watch it (cancelling the training job when it fails). After
// them, $PRE_HOOK_JOB_ID and $PRE_HOOK_NODES are set. Throws ConfigError when a hook case's
// workload cannot serve as a gate (no output check).
std::string write_gate(const RunContext& ctx, const Hook& hook);

// Nullopt when the run had no gate or the gate passed; otherwise a skipped verdict naming each
// node that failed and its figure ("pre-test gate failed on node2: Avg bus bandwidth (GB/s)
// 36.1, requires Avg bus bandwidth >= 100 GB/s; the training job did not run").
std::optional<RunVerdict> gate_verdict(const std::filesystem::path& run_dir);

}  // namespace bp::mbridge
