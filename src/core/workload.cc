#include "core/workload.h"

#include "util/subprocess.h"

namespace bp {

std::string Workload::failure_details(const std::filesystem::path& run_dir) const {
  return file_tail(run_dir / "stderr.txt", 20);
}

}  // namespace bp
