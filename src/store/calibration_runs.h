// The finished runs of a results store that calibrate the estimator (core/calibration.h): passed
// runs with a prediction frozen at submission and a measured step time. `estimate` corrects its
// step time with them and judges its own accuracy on them; `run` records the factor it applied.
#pragma once

#include <filesystem>
#include <vector>

#include "core/calibration.h"
#include "store/store.h"

namespace bp {

// The observations among `runs` (others are skipped).
std::vector<Observation> calibration_observations(const std::vector<StoredRun>& runs);

// The observations of the store at `path`; none when there is no store there (no calibration is
// not an error). Throws Error for a file that is not a readable benchpilot store.
std::vector<Observation> calibration_observations(const std::filesystem::path& store_path);

}  // namespace bp
