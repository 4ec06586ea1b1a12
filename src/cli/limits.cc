#include "cli/limits.h"

#include <cstdio>

#include "sweep/param_space.h"
#include "util/error.h"

namespace bp {

void check_sweep_sizes(const Scenario& scenario, const WorkLimits& limits) {
  for (const TestRun& run : scenario.runs) {
    uint64_t points = ParamSpace::of(run).size();
    if (points > limits.points_per_case)
      throw ConfigError(run.loc, "Tests." + run.id,
                        "the sweep has " + std::to_string(points) + " points, more than " +
                            std::to_string(limits.points_per_case) +
                            "; shorten the lists or pass " + kAllowLargeFlag + " to confirm");
  }
}

std::vector<std::string> exceeded_limits(const Scenario& scenario, const std::vector<Plan>& plans,
                                         const WorkLimits& limits) {
  std::vector<std::string> out;
  for (const TestRun& run : scenario.runs)
    if (run.iterations > limits.iterations)
      out.push_back(run.loc.str() + ": Tests." + run.id +
                    ".iterations: " + std::to_string(run.iterations) + " iterations, more than " +
                    std::to_string(limits.iterations));
  uint64_t jobs = 0;
  double hours = 0;
  for (const Plan& p : plans) {
    jobs += p.jobs;
    hours += p.gpu_hours.value_or(0);
  }
  if (jobs > limits.jobs)
    out.push_back(std::to_string(jobs) + " jobs (one run folder each), more than " +
                  std::to_string(limits.jobs));
  if (hours > limits.gpu_hours) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%.1f GPU-hours, more than %.0f", hours, limits.gpu_hours);
    out.push_back(buf);
  }
  return out;
}

}  // namespace bp
