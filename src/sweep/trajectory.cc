#include "sweep/trajectory.h"

#include <stdexcept>

#include "config/python_repr.h"
#include "util/error.h"
#include "util/numbers.h"
#include "util/strings.h"

namespace bp {

std::string action_repr(const Action& action) {
  std::string out = "{";
  for (size_t i = 0; i < action.size(); ++i) {
    if (i) out += ", ";
    out += python_str_repr(action[i].first) + ": " + python_repr(action[i].second);
  }
  return out + "}";
}

std::string observation_repr(const std::vector<double>& observation) {
  std::string out = "[";
  for (size_t i = 0; i < observation.size(); ++i) {
    if (i) out += ", ";
    out += python_float(observation[i]);
  }
  return out + "]";
}

TrajectoryWriter::TrajectoryWriter(const std::filesystem::path& file) : out_(file) {
  out_.append("step,action,reward,observation\n");
}

void TrajectoryWriter::add(uint64_t step, const Action& action, double reward,
                           const std::vector<double>& observation) {
  out_.append(std::to_string(step) + ',' + csv_field(action_repr(action)) + ',' +
              python_float(reward) + ',' + csv_field(observation_repr(observation)) + '\n');
}

std::vector<TrajectoryRow> read_trajectory(const std::filesystem::path& case_dir) {
  std::vector<TrajectoryRow> out;
  const auto rows = read_csv_file(case_dir / "trajectory.csv");
  for (size_t i = 1; i < rows.size(); ++i) {  // row 0 is the header
    const auto& r = rows[i];
    if (r.size() < 4) continue;
    // Blanks around a number are allowed (a hand-edited or pandas-written file).
    const std::optional<int64_t> step = parse_whole_int(trim(r[0]));
    const std::optional<double> reward = parse_whole_double(trim(r[2]));
    if (!step || !reward) continue;
    out.push_back({static_cast<int>(*step), r[1], *reward, r[3]});
  }
  return out;
}

}  // namespace bp
