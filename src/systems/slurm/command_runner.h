// How the Slurm code reaches the outside world: commands, sleeping and the clock. Unit tests
// replace it with a scripted fake; production uses SystemCommandRunner.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "util/subprocess.h"

namespace bp {

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  virtual CommandResult run(const std::vector<std::string>& argv, const CommandOptions& opts) = 0;
  virtual void sleep(std::chrono::milliseconds d) = 0;
  virtual std::chrono::steady_clock::time_point now() = 0;
};

// Runs real commands (util/subprocess.h), really sleeps, reads the steady clock.
class SystemCommandRunner : public CommandRunner {
 public:
  CommandResult run(const std::vector<std::string>& argv, const CommandOptions& opts) override;
  void sleep(std::chrono::milliseconds d) override;
  std::chrono::steady_clock::time_point now() override;
};

}  // namespace bp
