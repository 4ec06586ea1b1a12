// The one label of a run: "case/iteration/step".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bp {

// "case/iteration/step", the step omitted when 0 (a case that is not a sweep): job comments,
// logs, tables and reports all name a run this way.
inline std::string run_label(std::string_view case_id, int64_t iteration, int64_t step) {
  std::string s = std::string(case_id) + "/" + std::to_string(iteration);
  if (step > 0) s += "/" + std::to_string(step);
  return s;
}

}  // namespace bp
