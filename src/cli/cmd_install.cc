// install and uninstall.
#include "cli/commands.h"
#include "cli/load.h"
#include "core/workload.h"
#include "engine/install.h"
#include "util/log.h"

namespace bp {

int cmd_install(const CommonOptions& opts, InstallAction action) {
  LoadedConfig c = load_config(opts);
  std::vector<Installable> items = scenario_installables(c);
  if (action == InstallAction::kUninstall) return uninstall_all(items, c.system) ? 0 : 1;
  if (!install_all(items, c.system)) return 1;
  // What was installed must fit the tests (e.g. the pinned launcher has every flag they use).
  for (const TestRun& run : c.scenario.runs)
    if (const Workload* w = find_workload(run.test.test_template_name))
      w->preflight(run.test, c.system, PreflightMode::kAfterInstall);
  log::info("install: " + std::to_string(items.size()) + " item(s) ready under " +
            c.system.install_path.string());
  return 0;
}

}  // namespace bp
