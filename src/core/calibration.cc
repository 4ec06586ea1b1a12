#include "core/calibration.h"

#include <cmath>

namespace bp {

Calibration Calibration::fit(const std::vector<Observation>& observations) {
  Calibration c;
  for (const Observation& o : observations) {
    bool usable = std::isfinite(o.predicted_step_time_s) && std::isfinite(o.measured_step_time_s) &&
                  o.predicted_step_time_s > 0 && o.measured_step_time_s > 0;
    if (usable) c.obs_.push_back(o);
  }
  return c;
}

double Calibration::step_time_factor(const std::string& system, const std::string& gpu_type,
                                     const std::string& model, int* runs) const {
  // Ratios are averaged in log space: a run twice too slow and one twice too fast cancel.
  auto mean_log_ratio = [&](bool same_model, int& n) {
    double sum = 0;
    n = 0;
    for (const Observation& o : obs_) {
      if (o.system != system || o.gpu_type != gpu_type) continue;
      if (same_model && o.model != model) continue;
      sum += std::log(o.measured_step_time_s / o.predicted_step_time_s);
      ++n;
    }
    return n > 0 ? sum / n : 0.0;
  };
  int n = 0;
  double log_factor = model.empty() ? 0.0 : mean_log_ratio(true, n);
  if (n == 0) log_factor = mean_log_ratio(false, n);
  if (runs) *runs = n;
  return std::exp(log_factor);
}

}  // namespace bp
