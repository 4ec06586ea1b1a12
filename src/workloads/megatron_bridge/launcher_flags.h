// The flag set of the Megatron-Bridge launcher a test pins: read from the installed clone's
// scripts/performance/argument_parser.py (its add_argument calls, without running Python), so
// benchpilot refuses, before submission, a flag or choice that launcher version does not have
// (v0.3.0 and v0.6.0 differ: --offline, vr200/r100, task lora vs peft, ...).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/system.h"
#include "core/test_definition.h"

namespace bp::mbridge {

struct LauncherFlag {
  std::vector<std::string> names;    // "-g", "--gpu"
  std::vector<std::string> choices;  // empty: any value
  bool required = false;
};

struct LauncherFlagSet {
  std::vector<LauncherFlag> flags;
  // True when the clone has flat perf recipes (src/megatron/bridge/perf_recipes/, v0.6 and
  // later); informational, for messages.
  bool flat_recipes = false;

  // The flag answering to `name` (short or long form), or nullptr.
  const LauncherFlag* find(std::string_view name) const;
};

// Parses the text of an argument_parser.py: every add_argument("-x", "--long", ...,
// choices=[...] | choices=NAME | choices=NAME.keys(), required=True). A choices expression that
// is not a literal list is resolved against top-level `NAME = [...]` / `NAME = {...}` (keys).
LauncherFlagSet parse_launcher_flags(std::string_view argument_parser_py);

// Reads <clone>/scripts/performance/argument_parser.py; nullopt when the file does not exist.
std::optional<LauncherFlagSet> read_launcher_flags(const std::filesystem::path& mbridge_clone);

// Checks the launcher words a test sends against the pinned launcher: every flag must exist and
// choice values must be allowed. Throws ConfigError naming the cmd_args field, the value, the
// pinned commit and a way out (e.g. task = "lora" on v0.6 suggests "peft"). `commit` names the
// version in messages.
void check_against_launcher(const TestDefinition& test, const LauncherFlagSet& flags,
                            std::string_view commit);

}  // namespace bp::mbridge
