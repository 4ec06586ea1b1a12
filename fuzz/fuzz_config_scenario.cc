// Scenario TOML against two known tests (Sleep and MegatronBridge), then what plan does with a
// loaded scenario: the parameter space, the constraint rules on every point (overflow-checked
// arithmetic on user numbers) and the GPU-hour budget.
#include "config/toml_reader.h"
#include "fuzz_common.h"
#include "loaders/load_scenario.h"
#include "loaders/load_system.h"
#include "loaders/load_test.h"
#include "sweep/param_space.h"
#include "sweep/plan.h"

namespace {

const std::vector<bp::TestDefinition>& known_tests() {
  static const std::vector<bp::TestDefinition> tests = [] {
    std::vector<bp::TestDefinition> t;
    t.push_back(bp::parse_test_table(bp::read_toml_string(
        "name = 'sleep'\ndescription = 'd'\ntest_template_name = 'Sleep'\n[cmd_args]\n"
        "seconds = 1\n",
        "sleep.toml")));
    t.push_back(bp::parse_test_table(bp::read_toml_string(
        "name = 'mb'\ndescription = 'd'\ntest_template_name = 'MegatronBridge'\n"
        "[[git_repos]]\nurl = 'https://github.com/NVIDIA-NeMo/Megatron-Bridge.git'\n"
        "commit = 'v0.3.0'\n[cmd_args]\nmodel_family_name = 'llama'\n"
        "model_recipe_name = 'llama3_8b'\nnum_gpus = 8\ngb = 128\n",
        "mb.toml")));
    return t;
  }();
  return tests;
}

const bp::System& system() {
  static const bp::System s = bp::parse_system_table(bp::read_toml_string(
      "name = 's'\nscheduler = 'slurm'\ninstall_path = '/i'\noutput_path = '/o'\n"
      "default_partition = 'p'\ngpus_per_node = 8\n[[partitions]]\nname = 'p'\n",
      "system.toml"));
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bp::fuzz::quiet_logs();
  try {
    bp::Scenario s =
        bp::parse_scenario_table(bp::read_toml_string(bp::fuzz::text(data, size), "scenario.toml"),
                                 known_tests(), bp::registry_workloads());
    for (const bp::TestRun& run : s.runs)
      if (bp::ParamSpace::of(run).size() <= 4096) bp::make_plan(run, system());
  } catch (const bp::ConfigError&) {
  }
  return 0;
}
