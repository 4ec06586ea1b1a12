// Reading cmd_args values the way CloudAI's pydantic models coerce them, for constraint
// checking. Each function throws ConfigError (file, line, key path) when a value cannot be read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/value.h"

namespace bp {

// Integers by the one rule, lax_int (config/schema.h).
int64_t decode_int(const Value& v, const std::string& key_path);
// Booleans; also 0/1 and pydantic's strings (true/false, yes/no, on/off, t/f, y/n, 1/0).
bool decode_bool(const Value& v, const std::string& key_path);
// A string; other scalars are rendered as they would be on a command line.
std::string decode_string(const Value& v, const std::string& key_path);

// CloudAI's _normalize_str_list for cuda_graph_scope / recompute_modules: a string like
// "[attn, 'mlp']" or a list of such strings becomes lower-case items with quotes, brackets and
// blanks removed. Lower-casing here is CloudAI's constraint check; Megatron-Bridge's validate
// refuses upper-case names first (the launcher gets the text as written), so both see one name.
std::vector<std::string> normalize_str_list(const Value& v, const std::string& key_path);

}  // namespace bp
