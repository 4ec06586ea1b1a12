// The Megatron-Bridge workload's Estimator (core/estimate.h): memory per GPU from
// memory_model.h, resolved as the sweep's rule E1 resolves it (constraints.h).
#pragma once

#include "core/estimate.h"
#include "workloads/megatron_bridge/model_catalog.h"

namespace bp {

const Estimator& megatron_bridge_estimator();

// The estimate of one point with an explicit catalog (tests).
Estimate estimate_megatron_bridge(const TestRun& point, const System& system,
                                  const ModelCatalog& catalog);

}  // namespace bp
