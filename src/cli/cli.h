// Command-line entry point: parses arguments and dispatches to one subcommand.
#pragma once

namespace bp {
int cli_main(int argc, char** argv);
}
