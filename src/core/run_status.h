// The one status word of a run, and the one place that spells it.
#pragma once

#include <optional>
#include <string_view>

namespace bp {

// PASSED, FAILED, SKIPPED (a failed pre-test kept it from starting), UNKNOWN (no job state
// recorded: a killed run's folder) or DRY-RUN (nothing was submitted).
enum class RunStatus { kPassed, kFailed, kSkipped, kUnknown, kDryRun };

// The word summary.json, the store, junit and the reports write.
std::string_view to_string(RunStatus s);

// The status a word names (summary.json's "status", the store's verdict); nullopt for any other
// text.
std::optional<RunStatus> parse_run_status(std::string_view word);

// summary.json and report.html count a skipped run among the failed ones (it did not pass).
inline bool counts_as_failed(RunStatus s) {
  return s == RunStatus::kFailed || s == RunStatus::kSkipped;
}

// The job state the engine records for a run it never started on purpose (a pre-test failed):
// not a scheduler's state, so judge() tells it apart.
inline constexpr std::string_view kSkippedJobState = "SKIPPED";
// The job state of a folder with no usable job record (a killed run's).
inline constexpr std::string_view kUnknownJobState = "UNKNOWN";

}  // namespace bp
