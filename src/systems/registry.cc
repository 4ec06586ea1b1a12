// The list of schedulers. Adding a scheduler = one folder under src/systems/ + one line here.
#include <stdexcept>

#include "core/executor.h"
#include "core/scheduler.h"
#include "util/error.h"
#include "util/strings.h"

namespace bp {

// Each scheduler folder defines its accessor.
const Scheduler& slurm_scheduler();
const Scheduler& standalone_scheduler();

std::vector<const Scheduler*> all_schedulers() {
  return {
      &slurm_scheduler(),
      &standalone_scheduler(),
  };
}

std::vector<std::string> scheduler_names() {
  std::vector<std::string> names;
  for (const Scheduler* s : all_schedulers()) names.emplace_back(s->name());
  return names;
}

const Scheduler* find_scheduler(std::string_view name) {
  for (const Scheduler* s : all_schedulers())
    if (s->name() == name) return s;
  return nullptr;
}

const Scheduler& scheduler_of(const System& system) {
  if (const Scheduler* s = find_scheduler(system.scheduler)) return *s;
  throw ValueError("unsupported scheduler \"" + system.scheduler +
                              "\" (supported: " + join(scheduler_names(), ", ") + ")");
}

std::unique_ptr<Executor> make_executor(const System& system) {
  return scheduler_of(system).make_executor(system);
}

}  // namespace bp
