#include "store/calibration_runs.h"

namespace bp {

std::vector<Observation> calibration_observations(const std::vector<StoredRun>& runs) {
  std::vector<Observation> out;
  for (const StoredRun& r : runs) {
    if (r.verdict != "PASSED" || !r.prediction || !r.prediction->step_time_s) continue;
    if (!r.measured_step_time_s) continue;
    Observation o;
    o.system = r.system;
    o.gpu_type = r.gpu_type;
    o.model = r.model;
    o.predicted_step_time_s = *r.prediction->step_time_s;
    o.measured_step_time_s = *r.measured_step_time_s;
    o.estimator_version = r.prediction->estimator_version;
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<Observation> calibration_observations(const std::filesystem::path& store_path) {
  std::error_code ec;
  if (!std::filesystem::exists(store_path, ec)) return {};
  HistoryQuery q;
  q.passed_only = true;
  q.limit = 0;  // every run: a calibration rests on all of them
  return calibration_observations(open_sqlite_store(store_path)->query(q));
}

}  // namespace bp
