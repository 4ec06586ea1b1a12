// Sweep constraints of the Megatron-Bridge workload.
//
// C-rules are CloudAI's constraint_check (megatron_bridge.py) with its exact semantics, so a
// space gives CloudAI's valid set when the model is unknown. Its constraints 2 and 8 are always
// true there (no layer count); benchpilot checks them as M4/M5 when the recipe is in the model
// catalog. M-rules are what Megatron-Bridge/Megatron-LM reject at start-up for a known model
// shape; they apply only when model_recipe_name is found in the catalog
// (workloads/megatron_bridge/model_catalog.h).
#pragma once

#include <optional>
#include <vector>

#include "core/estimate.h"
#include "sweep/constraints.h"
#include "sweep/param_space.h"
#include "workloads/megatron_bridge/memory_model.h"
#include "workloads/megatron_bridge/model_catalog.h"

namespace bp {

const ConstraintSet& megatron_bridge_constraints();

// Same as megatron_bridge_constraints().compile() with an explicit catalog (tests, benchmarks).
// With a known recipe and `[estimate] oom = "prune"` (the default) it includes rule E1,
// predicted out of memory (memory_model.h; the GPU's memory is system->gpu_memory_gib, else
// the gpu_type's).
CompiledConstraints compile_megatron_bridge(const TestRun& run, const ParamSpace& space,
                                            const ModelCatalog& catalog,
                                            const System* system = nullptr);
// E1's warning twin: fails for the points that run near (or, with oom = "warn", beyond) the
// GPU's memory; empty when the rule is off or no recipe is known.
CompiledConstraints compile_memory_warnings(const TestRun& run, const ParamSpace& space,
                                            const ModelCatalog& catalog,
                                            const System* system = nullptr);

// The memory estimate of one point (a run without lists), resolved exactly as E1 resolves it:
// written values, else the recipe's defaults. Members unset where that cannot be known.
struct MemoryPoint {
  std::optional<mbridge::MemoryInputs> inputs;
  const ModelShape* shape = nullptr;
  std::optional<double> gpu_gib;
  std::optional<MemoryEstimate> memory;
};
MemoryPoint megatron_bridge_memory_point(const TestRun& point, const System* system,
                                         const ModelCatalog& catalog);

// megatron_bridge_memory_point() of every point of one case, compiled once (plan estimates up
// to millions of points): `at` takes one value index per axis of ParamSpace::of(run).
class MemoryPoints {
 public:
  MemoryPoints(const TestRun& run, const System* system, const ModelCatalog& catalog);
  MemoryPoints(const MemoryPoints&) = delete;
  MemoryPoints& operator=(const MemoryPoints&) = delete;
  MemoryPoint at(const std::vector<uint32_t>& indices);

 private:
  ParamSpace space_;
  CompiledConstraints rules_;
  std::optional<CompiledConstraints::Evaluator> ev_;  // unset when no recipe is known
};

// The rule tables, in evaluation order.
const std::vector<Rule>& megatron_bridge_cloudai_rules();
const std::vector<Rule>& megatron_bridge_model_rules();

}  // namespace bp
