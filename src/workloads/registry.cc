// The list of workloads. Adding a workload = one folder under src/workloads/ + one line here.
#include <array>

#include "core/workload.h"

namespace bp {

// Each workload folder defines its accessor.
const Workload& megatron_bridge_workload();
const Workload& sleep_workload();
const Workload& nccl_test_workload();

namespace {
std::vector<const Workload*> all_workloads() {
  return {
      &megatron_bridge_workload(),
      &sleep_workload(),
      &nccl_test_workload(),
  };
}
}  // namespace

const Workload* find_workload(std::string_view test_template_name) {
  for (const Workload* w : all_workloads())
    if (w->name() == test_template_name) return w;
  return nullptr;
}

std::vector<std::string> workload_names() {
  std::vector<std::string> names;
  for (const Workload* w : all_workloads()) names.emplace_back(w->name());
  return names;
}

}  // namespace bp
