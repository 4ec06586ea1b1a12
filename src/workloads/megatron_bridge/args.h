// The cmd_args schema of the MegatronBridge workload (CloudAI's MegatronBridgeCmdArgs): every
// field in declaration order, its type, default, whether a list makes a sweep, and the
// setup_experiment.py flag it becomes, as config/cmd_args_schema.h's ArgSpec (the type every
// workload's schema uses). An unwritten field reaches the launcher with its default
// (written_or_default), as CloudAI passes every default of a test referenced by test_name, so
// the launcher runs CloudAI's configuration (docs/cloudai-compatibility.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/cmd_args_schema.h"
#include "config/value.h"

namespace bp::mbridge {

// All fields, in CloudAI's declaration order (plus benchpilot's `offline`, for v0.6 launchers).
const std::vector<ArgSpec>& arg_specs();

// Field names in declaration order (Workload::cmd_args_fields).
std::vector<std::string> arg_names();

// The field's spec, or nullptr for a key the schema does not know.
const ArgSpec* find_arg(std::string_view name);

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
