// Strict number parsing: the whole text or nothing. Logs and config numbers use it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace bp {

// All of `s` as std::from_chars reads it (no spaces, no leading '+'); nullopt for anything else,
// including an integer out of range.
std::optional<int64_t> parse_whole_int(std::string_view s);
std::optional<double> parse_whole_double(std::string_view s);

}  // namespace bp
