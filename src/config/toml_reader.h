// Reads TOML files into Value trees. The only place that includes toml++.
#pragma once

#include <filesystem>
#include <string>

#include "config/value.h"
#include "util/error.h"

namespace bp {

// Parses a TOML file. Throws ConfigError (with the parser's line) on syntax errors, and on a
// missing or unreadable file (with the reason), one that is not a regular file (a FIFO, a
// device) or one larger than kMaxConfigFileBytes.
Value read_toml_file(const std::filesystem::path& path);
// Parses TOML text; `name` is used in locations and messages.
Value read_toml_string(std::string_view text, const std::string& name);

}  // namespace bp
