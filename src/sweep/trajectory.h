// trajectory.csv as CloudAI writes it: step,action,reward,observation with the action as a
// Python dict repr and the observation as a Python list repr. Each row is written whole as it is
// added (util/line_appender.h), so an interrupted sweep keeps what finished and a kill -9 or a
// full disk never leaves half a row. Its reader (report.html, generate-report) is here too.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sweep/param_space.h"
#include "util/error.h"
#include "util/line_appender.h"

namespace bp {

// {'tp': 2, 'cuda_graph_scope': 'attn'}
std::string action_repr(const Action& action);
// [1.5, 3.0]
std::string observation_repr(const std::vector<double>& observation);

class TrajectoryWriter {
 public:
  // Creates the file with its header. Throws FileError naming the file and the reason when it
  // cannot be written, here or in add().
  explicit TrajectoryWriter(const std::filesystem::path& file);
  void add(uint64_t step, const Action& action, double reward,
           const std::vector<double>& observation);

 private:
  LineAppender out_;
};

struct TrajectoryRow {
  int step = 0;
  std::string action;  // Python dict repr (config/python_repr.h: parse_python_dict_repr)
  double reward = 0;
  std::string observation;  // Python list repr
};
// <case dir>/trajectory.csv; rows that do not parse are skipped, a missing file has none.
std::vector<TrajectoryRow> read_trajectory(const std::filesystem::path& case_dir);

}  // namespace bp
