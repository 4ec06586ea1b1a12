// The one cmd_args schema type of every workload (CloudAI's <Workload>CmdArgs models): each
// field's type, default, whether a list of it makes a sweep, and the flag the program receives.
// A workload declares its fields as a vector of ArgSpec; its own validator reads the types.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "config/value.h"

namespace bp {

enum class ArgType {
  kString,
  kInt,
  kFloat,  // a number; an integer is accepted too
  kBool,
  kSize,    // a size in bytes: 128, "32M", "1.5G" (K, M, G: powers of 1024)
  kChoice,  // one of ArgSpec::choices
  kRanks,   // an integer, a comma string ("0,1") or a list of integers
};

struct ArgSpec {
  std::string name;
  ArgType type = ArgType::kString;
  // CloudAI's default; none when the field defaults to None. An unwritten field reaches the
  // program with this value (see written_or_default).
  Value default_value;
  // `X | list[X]` in CloudAI: a list of X is a sweep over its items.
  bool sweepable = false;
  // The program's flag ("-tp", "--lr", "--iters"); empty when the field configures benchpilot
  // or CloudAI (an image, a threshold) and is never passed to the program.
  std::string flag;
  // Booleans given as a bare flag when true (`-d`), instead of `flag true|false`.
  bool bare_flag = false;
  std::vector<std::string> choices;  // kChoice
  // kInt: the values the program can work with (a C int, for some programs).
  int64_t min_int = std::numeric_limits<int64_t>::min();
  int64_t max_int = std::numeric_limits<int64_t>::max();
};

// The field names in declaration order (Workload::cmd_args_fields).
std::vector<std::string> arg_names(const std::vector<ArgSpec>& specs);

// The field's spec, or nullptr for a key the schema does not know.
const ArgSpec* find_arg(const std::vector<ArgSpec>& specs, std::string_view name);

// The value a run gives a field: the written value, else the default; nullptr when neither
// exists (the flag is then not passed). The one place that decides what an unwritten field
// means.
const Value* written_or_default(const ArgSpec& spec, const Value& cmd_args);

}  // namespace bp
