// Test double (test kit only, never in the product) for the config tests: a workload with the
// real Sleep's constants whose validate() rejects a non-integer cmd_args.seconds and counts its
// calls, and a WorkloadLookup that knows only it.
// The loaders are tested against this lookup instead of the registry's, so a test decides which
// workloads exist and sees every validate() call, whatever the real workloads check.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "core/workload.h"
#include "loaders/load_test.h"
#include "util/error.h"

namespace bp::testkit {

class FakeSleepWorkload : public Workload {
 public:
  mutable int validated = 0;

  // The real Sleep workload's constants, found through the registry as the loaders find any
  // workload, so the fake cannot drift from them; only the behaviours are faked.
  const WorkloadInfo& info() const override {
    const Workload* sleep = find_workload("Sleep");
    if (!sleep) throw std::logic_error("the Sleep workload is not registered");
    return sleep->info();
  }
  void validate(const TestDefinition& test) const override {
    ++validated;
    const Value* s = test.cmd_args.find("seconds");
    if (s && !s->is_int()) throw ConfigError(s->loc(), "cmd_args.seconds", "expected an integer");
  }
  RunSpec prepare(const RunContext&) const override { return {}; }
  RunRead read(const std::filesystem::path&) const override { return {}; }
  bool recognizes(const std::filesystem::path&) const override { return false; }
};

// A lookup that finds `fake` under "Sleep" and lists `names` as the known workloads.
inline WorkloadLookup fake_lookup(const FakeSleepWorkload& fake,
                                  std::vector<std::string> names = {"Sleep"}) {
  WorkloadLookup lookup;
  lookup.find = [&fake](std::string_view n) -> const Workload* {
    return n == "Sleep" ? &fake : nullptr;
  };
  lookup.names = [names] { return names; };
  return lookup;
}

}  // namespace bp::testkit
