#include "cli/cli.h"

int main(int argc, char** argv) {
  return bp::cli_main(argc, argv);
}
