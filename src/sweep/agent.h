// Search agents: which point of a parameter space to try next.
//
// Points are numbered 1..space.size() (ParamSpace). An agent proposes point numbers and is told
// how each went; the driver (dse_driver.h) prunes invalid points, reuses results of identical
// points and runs the rest, so agents only decide the order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sweep/param_space.h"

namespace bp {

struct Feedback {
  enum class Kind {
    kOk,      // ran and produced every metric; reward is meaningful
    kPruned,  // a constraint rejected it; reward = constraint_failure
    kFailed,  // ran but failed or lacked a metric; reward = metric_failure
  };
  uint64_t point = 0;
  double reward = 0;
  Kind kind = Kind::kOk;
  // The step time the run measured (seconds), when its workload reports one; the model-guided
  // agent sets it beside the prediction.
  std::optional<double> step_time_s = std::nullopt;
};

// What the model-guided agent knows of a point before it runs (the workload's Estimator).
struct PointPrediction {
  std::optional<double> step_time_s;  // the raw model's; nullopt when it cannot predict
  bool out_of_memory = false;         // clearly out of memory (rule E1): never proposed
};

class Agent {
 public:
  virtual ~Agent() = default;
  // The next point to try, or 0 when the agent has nothing left to propose.
  virtual uint64_t propose() = 0;
  virtual void update(const Feedback& feedback) = 0;
};

struct AgentOptions {
  uint64_t seed = 42;
  uint64_t budget = 20;  // points the driver will run; adaptive agents plan with it
  // model_guided: the prediction for a point number, and the system the calibration is for.
  std::function<PointPrediction(uint64_t point)> predict;
  std::string system;
};

// Points model_guided ranks at most (it predicts every point before the first proposal).
constexpr uint64_t kModelGuidedMaxPoints = 1000000;

// grid_search: every point in order (CloudAI's agent).
// random_search: uniform samples without repetition.
// local_search: a few random points, then neighbours (one or two axes moved to an adjacent or
//   random value) of the best points so far; random restarts when neighbourhoods are used up.
// model_guided: the points in order of predicted step time, predicted out-of-memory points
//   skipped; after each result the rest are re-ranked by the calibration (core/calibration.h)
//   fitted on the finished points nearest each one, so a result that contradicts the model
//   moves its neighbours; points the model cannot predict come last, in grid order.
// Returns nullptr for an unknown name, and for model_guided without options.predict.
std::unique_ptr<Agent> make_agent(std::string_view name, const ParamSpace& space,
                                  const AgentOptions& options);
std::vector<std::string> agent_names();
// One line per agent for `list agents`, in agent_names() order.
std::string agent_description(std::string_view name);

}  // namespace bp
