// trajectory.csv as CloudAI writes it: step,action,reward,observation with the action as a
// Python dict repr and the observation as a Python list repr. Rows are flushed as they are
// added, so an interrupted sweep keeps what finished.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "sweep/param_space.h"
#include "util/error.h"

namespace bp {

// {'tp': 2, 'cuda_graph_scope': 'attn'}
std::string action_repr(const Action& action);
// [1.5, 3.0]
std::string observation_repr(const std::vector<double>& observation);

class TrajectoryWriter {
 public:
  // Creates the file with its header. Throws FileError when it cannot be written.
  explicit TrajectoryWriter(const std::filesystem::path& file);
  void add(uint64_t step, const Action& action, double reward,
           const std::vector<double>& observation);

 private:
  std::ofstream out_;
};

}  // namespace bp
