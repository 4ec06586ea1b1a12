// How a sweep driver (agent loop) gets its points run. The scenario engine implements this
// (prepare + submit + monitor through an executor, which for dry-run submits nothing), so the
// driver itself knows nothing about schedulers.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/scenario.h"

namespace bp {

struct PointResult {
  int step = 0;
  bool ok = false;                        // job ended well and the workload's verdict passed
  std::string message;                    // failure reason
  std::map<std::string, double> metrics;  // requested metrics that could be computed
  std::filesystem::path run_dir;
  // False when the point's files were generated but it was never submitted (dry-run): it
  // neither passed nor failed.
  bool submitted = true;
};

class PointRunner {
 public:
  virtual ~PointRunner() = default;
  // Creates <case>/<iteration>/<step>/ with all generated files and, in run mode, starts it.
  // `point` is the case with this point's parameters applied.
  virtual void start(int step, const TestRun& point) = 0;
  // Blocks until at least one started point finished (points that ended at submission are
  // returned at once) and returns the finished ones. Returns empty when nothing is in flight.
  virtual std::vector<PointResult> wait_any() = 0;
  virtual int in_flight() const = 0;
  // Most points that may run at once (from agent_config.max_in_flight, default from system).
  virtual int max_in_flight() const = 0;
  // Case directory for this iteration: <results>/<case>/<iteration>/ (trajectory, pruned.csv).
  virtual std::filesystem::path case_dir() const = 0;
};

}  // namespace bp
