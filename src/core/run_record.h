// What benchpilot knows about one run (one case, iteration and sweep point) once it ended.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config/value.h"

namespace bp {

struct RunRecord {
  std::string case_id;
  int iteration = 0;
  int step = 0;  // sweep point number; 0 for a case that is not a sweep
  std::filesystem::path run_dir;
  std::vector<std::pair<std::string, Value>> params;  // swept values of this point
  std::string job_id;
  std::string state;    // scheduler's final state, or "DRY-RUN"
  bool passed = false;  // job ended well and the workload's verdict passed
  std::string message;  // why it failed
  std::map<std::string, double> metrics;
  // The regression gate's word on this run (store/regression.h); empty when not judged.
  std::string perf_verdict;
};

}  // namespace bp
