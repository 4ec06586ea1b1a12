// Sweep constraints of the Megatron-Bridge workload.
//
// C-rules are CloudAI's constraint_check (megatron_bridge.py) with its exact semantics, so a
// space gives CloudAI's valid set when the model is unknown. Its constraints 2 and 8 are always
// true there (no layer count); benchpilot checks them as M4/M5 when the recipe is in the model
// catalog. M-rules are what Megatron-Bridge/Megatron-LM reject at start-up for a known model
// shape; they apply only when model_recipe_name is found in the catalog
// (workloads/megatron_bridge/model_catalog.h).
#pragma once

#include "sweep/constraints.h"
#include "workloads/megatron_bridge/model_catalog.h"

namespace bp {

const ConstraintSet& megatron_bridge_constraints();

// Same as megatron_bridge_constraints().compile() with an explicit catalog (tests, benchmarks).
CompiledConstraints compile_megatron_bridge(const TestRun& run, const ParamSpace& space,
                                            const ModelCatalog& catalog);

// The rule tables, in evaluation order.
const std::vector<Rule>& megatron_bridge_cloudai_rules();
const std::vector<Rule>& megatron_bridge_model_rules();

}  // namespace bp
