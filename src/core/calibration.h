// How the estimator learns from finished runs: a measured step time beside the step time the
// estimator predicted for that run gives a ratio; the ratios of earlier runs on the same system
// and GPU type correct the raw prediction of the next point. The correction scales the step time
// model's throughput constants for that system and GPU type (one factor), and narrows to the
// model when runs of the same model exist there, so one run of a configuration moves the
// estimates of its neighbours (same model and system) towards what was measured.
// `estimate`, `plan` and the model-guided agent use this one rule.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace bp {

// One finished run: what was predicted for it (raw, uncalibrated) and what was measured.
struct Observation {
  std::string system;    // system name
  std::string gpu_type;  // e.g. "h100"
  std::string model;     // e.g. the model recipe; empty when unknown
  double predicted_step_time_s = 0;
  double measured_step_time_s = 0;
  // Which estimator made the prediction (Estimate::estimator_version): ratios against another
  // version's predictions say nothing about today's model.
  std::string estimator_version;
};

// Keys a correction applies to. A factor multiplies the raw predicted step time.
class Calibration {
 public:
  // Fits from observations; ones with a non-positive or non-finite time are skipped.
  static Calibration fit(const std::vector<Observation>& observations);
  // Fits from the observations of one estimator version only.
  static Calibration fit(const std::vector<Observation>& observations,
                         std::string_view estimator_version);

  // The factor for a point of `model` on `system`/`gpu_type`: the geometric mean of the ratios
  // (measured / predicted) of the runs of that model there, else of all runs there; 1 (the raw
  // model) when there are none. `runs` (optional) receives how many runs it rests on.
  double step_time_factor(const std::string& system, const std::string& gpu_type,
                          const std::string& model, int* runs = nullptr) const;

  // Number of usable observations.
  int size() const { return static_cast<int>(obs_.size()); }

 private:
  std::vector<Observation> obs_;
};

// The step-time factors of one system's points, each from the runs there of the point's own
// estimator version: fitted once per version and looked up once per (version, GPU type, model),
// so a sweep of a million points asks as cheaply as one. `estimate`, `plan` and the prediction
// frozen at submission use it.
class SystemCalibration {
 public:
  SystemCalibration(std::vector<Observation> runs, std::string system)
      : runs_(std::move(runs)), system_(std::move(system)) {}

  struct Factor {
    double value = 1;  // multiplies the raw step time; 1: the raw model
    int runs = 0;      // how many finished runs it rests on
  };
  Factor factor(const std::string& estimator_version, const std::string& gpu_type,
                const std::string& model);

 private:
  std::vector<Observation> runs_;
  std::string system_;
  std::map<std::string, Calibration> by_version_;
  std::map<std::tuple<std::string, std::string, std::string>, Factor> factors_;
};

// How well the step time model predicts past runs, per model and system: each run is judged by
// a calibration fitted without it (leave-one-out), so a run never vouches for itself.
// Error = |predicted / measured - 1|.
struct AccuracyRow {
  std::string model, system, gpu_type, estimator_version;
  int runs = 0;
  double median_error = 0, worst_error = 0;          // calibrated (leave-one-out)
  double raw_median_error = 0, raw_worst_error = 0;  // the raw model
};
// One row per (estimator version, system, GPU type, model), sorted by those; the calibration of
// a run uses the other runs of its estimator version only.
std::vector<AccuracyRow> leave_one_out_accuracy(const std::vector<Observation>& observations);

}  // namespace bp
