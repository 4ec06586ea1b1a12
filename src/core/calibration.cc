#include "core/calibration.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "util/exact_stats.h"

namespace bp {

namespace {

bool usable(const Observation& o) {
  return std::isfinite(o.predicted_step_time_s) && std::isfinite(o.measured_step_time_s) &&
         o.predicted_step_time_s > 0 && o.measured_step_time_s > 0;
}

}  // namespace

Calibration Calibration::fit(const std::vector<Observation>& observations) {
  Calibration c;
  for (const Observation& o : observations)
    if (usable(o)) c.obs_.push_back(o);
  return c;
}

Calibration Calibration::fit(const std::vector<Observation>& observations,
                             std::string_view estimator_version) {
  std::vector<Observation> same;
  for (const Observation& o : observations)
    if (o.estimator_version == estimator_version) same.push_back(o);
  return fit(same);
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

SystemCalibration::Factor SystemCalibration::factor(const std::string& estimator_version,
                                                    const std::string& gpu_type,
                                                    const std::string& model) {
  auto key = std::make_tuple(estimator_version, gpu_type, model);
  if (auto known = factors_.find(key); known != factors_.end()) return known->second;
  auto fitted = by_version_.find(estimator_version);
  if (fitted == by_version_.end())
    fitted =
        by_version_.emplace(estimator_version, Calibration::fit(runs_, estimator_version)).first;
  Factor f;
  f.value = fitted->second.step_time_factor(system_, gpu_type, model, &f.runs);
  return factors_.emplace(std::move(key), f).first->second;
}

std::vector<AccuracyRow> leave_one_out_accuracy(const std::vector<Observation>& observations) {
  std::vector<Observation> runs;
  for (const Observation& o : observations)
    if (usable(o)) runs.push_back(o);
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<Key, std::pair<std::vector<double>, std::vector<double>>> errors;  // calibrated, raw
  for (size_t i = 0; i < runs.size(); ++i) {
    const Observation& o = runs[i];
    std::vector<Observation> others;
    for (size_t j = 0; j < runs.size(); ++j)
      if (j != i && runs[j].estimator_version == o.estimator_version) others.push_back(runs[j]);
    const double factor = Calibration::fit(others).step_time_factor(o.system, o.gpu_type, o.model);
    auto& [calibrated, raw] = errors[{o.estimator_version, o.system, o.gpu_type, o.model}];
    calibrated.push_back(std::abs(o.predicted_step_time_s * factor / o.measured_step_time_s - 1));
    raw.push_back(std::abs(o.predicted_step_time_s / o.measured_step_time_s - 1));
  }
  std::vector<AccuracyRow> rows;
  for (const auto& [key, e] : errors) {
    AccuracyRow r;
    std::tie(r.estimator_version, r.system, r.gpu_type, r.model) = key;
    r.runs = static_cast<int>(e.first.size());
    r.median_error = python_median(e.first);
    r.worst_error = *std::max_element(e.first.begin(), e.first.end());
    r.raw_median_error = python_median(e.second);
    r.raw_worst_error = *std::max_element(e.second.begin(), e.second.end());
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace bp
