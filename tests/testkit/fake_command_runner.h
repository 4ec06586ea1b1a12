// Test double (test kit only, never in the product): a scripted CommandRunner that answers
// commands through a handler, records every call and sleep, and has a clock that only moves when
// told to (or by sleeping). Stands in for Slurm's commands in unit tests and benchmarks.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "systems/slurm/command_runner.h"
#include "util/strings.h"

namespace bp::testkit {

class FakeCommandRunner : public CommandRunner {
 public:
  using Handler = std::function<CommandResult(const std::vector<std::string>& argv)>;

  explicit FakeCommandRunner(Handler handler = {}) : handler_(std::move(handler)) {}
  void set_handler(Handler h) { handler_ = std::move(h); }

  CommandResult run(const std::vector<std::string>& argv, const CommandOptions& opts) override {
    calls.push_back(join(argv, " "));
    last_options = opts;
    if (!handler_) return fail("no handler");
    return handler_(argv);
  }
  void sleep(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    clock += d;
  }
  std::chrono::steady_clock::time_point now() override { return clock; }
  void advance(std::chrono::milliseconds d) { clock += d; }

  // Helpers for handlers.
  static CommandResult ok(std::string out) {
    CommandResult r;
    r.out = std::move(out);
    return r;
  }
  static CommandResult fail(std::string err, int code = 1) {
    CommandResult r;
    r.err = std::move(err);
    r.status.code = code;
    return r;
  }

  // Calls whose command line starts with `prefix`.
  int count(const std::string& prefix) const {
    int n = 0;
    for (const std::string& c : calls) n += c.rfind(prefix, 0) == 0;
    return n;
  }

  std::vector<std::string> calls;
  std::vector<std::chrono::milliseconds> sleeps;
  CommandOptions last_options;
  std::chrono::steady_clock::time_point clock{std::chrono::hours(1)};

 private:
  Handler handler_;
};

}  // namespace bp::testkit
