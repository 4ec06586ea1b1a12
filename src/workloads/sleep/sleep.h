// The Sleep workload: CloudAI's "Sleep" test template. It runs `sleep <seconds>` as the job
// body, which makes it the cheapest way to exercise a system, a scenario's dependencies or a
// sweep end to end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/workload.h"

namespace bp {

inline constexpr int64_t kSleepDefaultSeconds = 5;  // CloudAI's SleepCmdArgs default

class SleepWorkload : public Workload {
 public:
  // "Sleep", its one field `seconds`; no metrics beyond "default", no columns.
  const WorkloadInfo& info() const override;
  // cmd_args.seconds: a non-negative integer, or a non-empty list of them (a sweep). Other
  // keys are warned about and ignored.
  void validate(const TestDefinition& test) const override;
  // RunSpec{"sleep <seconds>"}; a scheduler wraps it in its batch script or runs it
  // directly. Writes no file.
  RunSpec prepare(const RunContext& ctx) const override;
  // Success, as CloudAI's default was_run_successful: the job state says the rest; the failure
  // details are the end of stderr.txt.
  RunRead read(const std::filesystem::path& run_dir) const override;
  // A test-run.toml whose test_definition.test_template_name is "Sleep".
  bool recognizes(const std::filesystem::path& run_dir) const override;
};

const Workload& sleep_workload();

}  // namespace bp
