#include "core/run_status.h"

namespace bp {

namespace {
constexpr RunStatus kAll[] = {RunStatus::kPassed, RunStatus::kFailed, RunStatus::kSkipped,
                              RunStatus::kUnknown, RunStatus::kDryRun};
}  // namespace

std::string_view to_string(RunStatus s) {
  switch (s) {
    case RunStatus::kPassed:
      return "PASSED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kSkipped:
      return "SKIPPED";
    case RunStatus::kUnknown:
      return "UNKNOWN";
    case RunStatus::kDryRun:
      return "DRY-RUN";
  }
  return "UNKNOWN";
}

std::optional<RunStatus> parse_run_status(std::string_view word) {
  for (RunStatus s : kAll)
    if (to_string(s) == word) return s;
  return std::nullopt;
}

}  // namespace bp
