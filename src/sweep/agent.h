// Search agents: which point of a parameter space to try next.
//
// Points are numbered 1..space.size() (ParamSpace). An agent proposes point numbers and is told
// how each went; the driver (dse_driver.h) prunes invalid points, reuses results of identical
// points and runs the rest, so agents only decide the order.
#pragma once

#include <cstdint>
#include <memory>
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
};

// grid_search: every point in order (CloudAI's agent).
// random_search: uniform samples without repetition.
// local_search: a few random points, then neighbours (one or two axes moved to an adjacent or
//   random value) of the best points so far; random restarts when neighbourhoods are used up.
// Returns nullptr for an unknown name.
std::unique_ptr<Agent> make_agent(std::string_view name, const ParamSpace& space,
                                  const AgentOptions& options);
std::vector<std::string> agent_names();

}  // namespace bp
