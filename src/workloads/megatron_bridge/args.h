// The cmd_args schema of the MegatronBridge workload (CloudAI's MegatronBridgeCmdArgs): every
// field in declaration order, its type, default, whether a list makes a sweep, and the
// setup_experiment.py flag it becomes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/value.h"

namespace bp::mbridge {

enum class ArgType {
  kString,
  kInt,
  kFloat,  // an integer is accepted too
  kBool,
  kRanks,  // profiling_ranks: an integer, a comma string ("0,1") or a list of integers
};

struct ArgSpec {
  std::string name;
  ArgType type = ArgType::kString;
  // `X | list[X]` in CloudAI: a list of X is a sweep over its items.
  bool sweepable = false;
  // CloudAI's default; none when the field defaults to None. A field nobody wrote is passed
  // with this value (see emitted_value), as CloudAI passes every default of a test referenced
  // by test_name, so the launcher runs CloudAI's configuration (docs/cloudai-compatibility.md).
  Value default_value;
  // The launcher flag ("-tp", "--lr"); empty when the field is not passed to the launcher.
  std::string flag;
  // Booleans given as a bare flag when true (`-d`, `--use_recipes`), instead of `flag true|false`.
  bool bare_flag = false;
};

// All fields, in CloudAI's declaration order (plus benchpilot's `offline`, for v0.6 launchers).
const std::vector<ArgSpec>& arg_specs();

// Field names in declaration order (Workload::cmd_args_fields).
std::vector<std::string> arg_names();

// The field's spec, or nullptr for a key the schema does not know.
const ArgSpec* find_arg(std::string_view name);

// The value the launcher receives for a field: the written value, else the default; nullptr
// when neither exists (the flag is then not passed). The one place that decides what an
// unwritten field means for the launcher.
const Value* emitted_value(const ArgSpec& spec, const Value& cmd_args);

// Whether the test runs with --offline (v0.6 launchers): no HF token, no -hf.
bool offline_mode(const Value& cmd_args);

// What a run is filed under in the results store (RunFacts) and calibrated by (Estimate::model,
// gpu_type): the written model_recipe_name, else model_family_name; the written gpu_type; empty
// when not written.
std::string stored_model_name(const Value& cmd_args);
std::string stored_gpu_type(const Value& cmd_args);

// "an integer", "a string", ... and the list form "a list of integers", for messages.
std::string_view type_description(ArgType type);
std::string_view list_description(ArgType type);

}  // namespace bp::mbridge
