#include "systems/slurm/command_runner.h"

#include <thread>

#include "util/log.h"
#include "util/strings.h"

namespace bp {

CommandResult SystemCommandRunner::run(const std::vector<std::string>& argv,
                                       const CommandOptions& opts) {
  log::debug("running: " + join(argv, " "));
  return run_command(argv, opts);
}

void SystemCommandRunner::sleep(std::chrono::milliseconds d) {
  std::this_thread::sleep_for(d);
}

std::chrono::steady_clock::time_point SystemCommandRunner::now() {
  return std::chrono::steady_clock::now();
}

}  // namespace bp
