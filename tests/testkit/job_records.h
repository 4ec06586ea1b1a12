// Fixture job records for tests of code that reads run folders through core/job_record.h (the
// reports, the store, judge): such code never names a scheduler's file, and neither need its
// tests. The file names are the schedulers' (src/systems/<scheduler>/), as CloudAI and benchpilot
// 972c231 wrote them.
#pragma once

#include <filesystem>
#include <string_view>

#include "testkit/testkit.h"

namespace bp::testkit {

// Writes `toml` as the Slurm scheduler's job record of `run_dir` (creating the folder); returns
// the file's path.
inline std::filesystem::path write_slurm_job_record(const std::filesystem::path& run_dir,
                                                    std::string_view toml) {
  return write_file(run_dir / "slurm-job.toml", toml);
}

}  // namespace bp::testkit
