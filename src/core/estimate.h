// What a workload predicts about one run before it is submitted: memory per GPU (and, once
// wired, FLOPs and step time). A workload declares an Estimator (Workload::estimator); `plan`,
// `estimate`, the sweep and the reports use it without naming the workload. The one verdict on
// memory (fits / near the limit / out of memory) is judge_memory() here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/value.h"
#include "core/calibration.h"

namespace bp {

struct System;   // core/system.h
struct TestRun;  // core/scenario.h

// GiB (2^30 bytes) per GPU, on the most-loaded rank. `other`: what the framework's own formula
// leaves out (CUDA context, NCCL buffers, fragmentation, CUDA graphs); `details` names its parts.
struct MemoryEstimate {
  double weights = 0, gradients = 0, optimizer = 0, activations = 0, other = 0;
  std::vector<std::pair<std::string, double>> details;  // parts of `other`, GiB
  double total() const { return weights + gradients + optimizer + activations + other; }
};

struct Estimate {
  // The point's resolved configuration (what the framework receives), keyed as in
  // trajectory.csv; values as they would be written in cmd_args.
  std::vector<std::pair<std::string, Value>> params;
  std::optional<double> model_flops_per_token;  // FLOP
  std::optional<double> step_time_s;
  std::optional<double> tflops_per_gpu;
  std::optional<double> tokens_per_s_per_gpu;
  std::optional<MemoryEstimate> memory;
  std::optional<double> gpu_memory_gib;  // usable memory of one GPU
  // Which estimator and constants made it ("<workload>/<n>"): a prediction frozen in a run
  // folder says what it came from, so old predictions are not mistaken for today's model.
  std::string estimator_version;
  // What a run of the point costs besides its steps (plan's GPU-hours from the predicted run
  // time: train_steps x step_time_s + startup_s): the training iterations the launcher runs as
  // the point resolves them, and the time before the first of them, as the workload knows it.
  std::optional<int64_t> train_steps;
  std::optional<double> startup_s;
  // What the calibration keys a point by (core/calibration.h), as the results store names them
  // (StoredRun::model, gpu_type); empty where unknown.
  std::string model, gpu_type;
};

// The memory figures a run's log prints, GiB (2^30 bytes); each absent when the log lacks it.
struct MeasuredMemory {
  // The framework's own theoretical footprint (Megatron's "Theoretical memory footprints"; its
  // activation and total parts are printed only with sequence parallelism and selective
  // recompute).
  std::optional<double> theoretical_weight_and_optimizer_gib, theoretical_activation_gib,
      theoretical_total_gib;
  // The peak over ranks of the framework's allocator figures.
  std::optional<double> max_allocated_gib, max_reserved_gib;
};

// What a finished run measured of what an Estimate predicts, from the one read of its logs
// (RunRead::measured, core/workload.h); empty where its files do not say.
struct MeasuredRun {
  std::optional<double> step_time_s;
  std::optional<MeasuredMemory> memory;  // none when the log prints no memory line
};

// The prediction made for a run when it was submitted, kept in its folder so the measured run
// can be judged against it and calibrate later estimates (core/calibration.h). `estimate` holds
// the raw model's figures; `step_time_factor` is the calibration that was applied to the step
// time shown at submission (1: none), so calibrated = raw x factor.
struct FrozenEstimate {
  Estimate estimate;
  double step_time_factor = 1;
  std::optional<double> calibrated_step_time_s() const {
    if (!estimate.step_time_s) return std::nullopt;
    return *estimate.step_time_s * step_time_factor;
  }
};
inline constexpr const char* kFrozenEstimateFile = "estimate.toml";
// Writes <run_dir>/estimate.toml atomically (FileError when it cannot).
void write_frozen_estimate(const std::filesystem::path& run_dir, const FrozenEstimate& f);
// The frozen prediction of a run folder; nullopt when there is none or it cannot be read (an
// older folder, a damaged file: a prediction is never required to read a run).
std::optional<FrozenEstimate> read_frozen_estimate(const std::filesystem::path& run_dir);

// What happens to a point predicted out of memory (the test's or case's `[estimate] oom`).
enum class OomRule { kPrune, kWarn, kOff };
inline constexpr std::string_view kOomRuleKey = "estimate.oom";
// "prune", "warn", "off"; nullopt for anything else.
std::optional<OomRule> parse_oom_rule(std::string_view text);

// The E1 verdict. A point is pruned only when its estimate is clearly above the GPU's memory.
// On the configurations the framework's vendor publishes as run (the workload's tests hold
// them), the estimate reaches at most 1.09 x the GPU's memory: pruning from 20 % above leaves
// about twice that overshoot as room. From 80 % of the memory up the point runs with a warning:
// there, allocator fragmentation decides. A documented 70B-parameter FP8 fine-tuning run on 32
// H100 (tp 4, pp 4, vp 5) ran out with 58.8 GB allocated (69 % of 79.6 GiB) until expandable
// allocator segments were enabled; its estimate is 82 %.
inline constexpr double kOomPruneAbove = 1.20;  // x usable GPU memory
inline constexpr double kNearLimitFrom = 0.80;
struct MemoryVerdict {
  bool fits = true;  // false exactly when E1 prunes (rule kPrune)
  bool near_limit = false;
  bool over = false;  // clearly out of memory, whatever the rule says
};
MemoryVerdict judge_memory(double total_gib, double gpu_gib, OomRule rule);
// "needs 97.3 GiB of 79.6 GiB: weights 41.0, gradients 20.5, optimizer 30.8, activations 3.0,
// other 2.0"
std::string describe_memory(const MemoryEstimate& m, double gpu_gib);

// The estimates of the points of one sweep case, prepared once (plan estimates every point that
// runs, up to millions): `at` takes one value index per axis of the case's parameter space
// (ParamSpace::of(run), sweep/param_space.h) and gives what Estimator::estimate gives for the
// case with those values applied.
class CaseEstimator {
 public:
  virtual ~CaseEstimator() = default;
  virtual Estimate at(const std::vector<uint32_t>& indices) = 0;
};

class Estimator {
 public:
  virtual ~Estimator() = default;
  // One point: `run` with the point's parameters applied, on `system`.
  virtual Estimate estimate(const TestRun& run, const System& system) const = 0;
  // The points of `run` (a sweep case) on `system`, prepared once; nullptr where the workload
  // has no faster way than estimate() of each point applied. `run` and `system` must outlive it.
  virtual std::unique_ptr<CaseEstimator> for_case(const TestRun& run, const System& system) const {
    (void)run;
    (void)system;
    return nullptr;
  }
  // What the finished run in `run_dir` measured, for a caller that holds no RunRead of it (the
  // sweep driver ranking by measured step times): the same figures as the workload's
  // RunRead::measured, from the same cached parse of its logs.
  virtual MeasuredRun measured(const std::filesystem::path& run_dir) const {
    (void)run_dir;
    return {};
  }
};

// Estimates `point` and writes its prediction into run_dir (estimate.toml), with the step-time
// factor that `calibration_runs` of the estimator's version give it on `system`. Called before a
// point is submitted, so the prediction exists whatever happens to the job.
void freeze_estimate(const Estimator& estimator, const TestRun& point, const System& system,
                     const std::filesystem::path& run_dir,
                     const std::vector<Observation>& calibration_runs);

}  // namespace bp
