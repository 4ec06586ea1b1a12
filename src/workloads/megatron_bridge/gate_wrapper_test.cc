// gate_wrapper.sh keeps a bash copy of the live Slurm job states (it runs inside a job, where
// benchpilot's code is not): the copy must be the Slurm scheduler's own list, so that a state
// added to one and not the other fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/scheduler.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/embedded_scripts.h"

namespace bp::mbridge {
namespace {

// The states pre_hook_alive() accepts: each `A|B|C) return 0 ;;` line of its `case`. Any other
// line of the function that returns 0 is reported in `others` (a pattern the parse missed).
std::vector<std::string> gate_live_states(std::vector<std::string>& others) {
  const std::string script = kGateWrapperPart;
  const size_t begin = script.find("pre_hook_alive() {\n");
  const size_t end = script.find("\n}\n", begin);
  if (begin == std::string::npos || end == std::string::npos) return {};
  std::vector<std::string> states;
  for (const std::string& line : split(script.substr(begin, end - begin), '\n')) {
    std::string_view text = trim(line);
    const std::string_view tail = ") return 0 ;;";
    if (!text.ends_with(tail)) {
      if (text.find("return 0") != std::string_view::npos) others.emplace_back(text);
      continue;
    }
    text.remove_suffix(tail.size());
    for (const std::string& name : split(text, '|')) {
      bool upper_word = !name.empty();
      for (char c : name) upper_word &= (c >= 'A' && c <= 'Z') || c == '_';
      if (upper_word)
        states.push_back(name);
      else
        others.push_back(name);  // a glob or a variable: not a plain copy of the table
    }
  }
  return states;
}

TEST(GateWrapper, LiveStatesAreTheSlurmSchedulersList) {
  const Scheduler* scheduler = find_scheduler("slurm");
  ASSERT_NE(scheduler, nullptr);
  const std::vector<std::string> table = scheduler->live_job_states();
  // The list the scheduler exports is the real one, not an empty default.
  for (const char* state : {"PENDING", "RUNNING", "COMPLETING"})
    EXPECT_NE(std::find(table.begin(), table.end(), state), table.end()) << state;

  std::vector<std::string> others;
  const std::vector<std::string> script = gate_live_states(others);
  EXPECT_TRUE(others.empty()) << "gate_wrapper.sh pre_hook_alive(): not a list of state names: "
                              << join(others, "; ");
  const std::set<std::string> in_script(script.begin(), script.end());
  const std::set<std::string> in_table(table.begin(), table.end());
  EXPECT_EQ(in_script.size(), script.size()) << "a state listed twice in gate_wrapper.sh";
  for (const std::string& s : in_table)
    EXPECT_TRUE(in_script.count(s))
        << s << " is live in the Slurm scheduler's state table (slurm_state.cc) but missing "
        << "from gate_wrapper.sh's pre_hook_alive()";
  for (const std::string& s : in_script)
    EXPECT_TRUE(in_table.count(s))
        << s << " is live in gate_wrapper.sh's pre_hook_alive() but not in the Slurm "
        << "scheduler's state table (slurm_state.cc)";
}

}  // namespace
}  // namespace bp::mbridge
