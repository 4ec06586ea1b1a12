// plan: what a scenario would cost, before anything is generated or submitted.
#include "cli/commands.h"
#include "cli/load.h"
#include "util/log.h"

namespace bp {

int cmd_plan(const CommonOptions& opts) {
  LoadedConfig c = load_config(opts);
  log::error("plan: not available yet");
  return 1;
}

}  // namespace bp
