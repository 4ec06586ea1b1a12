// Validation of a MegatronBridge test definition, and the checks that must pass before a run.
#pragma once

#include <string>

#include "core/system.h"
#include "core/test_definition.h"

namespace bp::mbridge {

// Type-checks cmd_args against the schema (lists only for sweepable fields), requires non-blank
// model_family_name/model_recipe_name and a pinned Megatron-Bridge repo in git_repos. Throws
// ConfigError (file:line, key path, what was expected). Warns about keys the schema does not
// know and about cmd_args.gpus_per_node (the system's value is used).
void validate(const TestDefinition& test);

// The HF token: cmd_args.hf_token stripped, else $HF_TOKEN stripped (read now). May be empty.
std::string resolve_hf_token(const TestDefinition& test);

// Throws ConfigError explaining how to provide a token when resolve_hf_token is empty and
// cmd_args.offline is not true.
void preflight(const TestDefinition& test);

// The Megatron-Bridge repo of git_repos: the first whose url contains "Megatron-Bridge" or whose
// mount_as (trailing '/' ignored) is /opt/Megatron-Bridge; nullptr when there is none.
const GitRepo* find_mbridge_repo(const TestDefinition& test);

}  // namespace bp::mbridge
