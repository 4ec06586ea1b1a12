#include "cli/cli.h"

#include <cstdio>

namespace bp {
int cli_main(int, char**) {
  std::puts("benchpilot " BENCHPILOT_VERSION);
  return 0;
}
}  // namespace bp
