// Small string helpers used across the code base.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bp {

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
bool contains(std::string_view haystack, std::string_view needle);

// Quotes a word for POSIX sh the way Python's shlex.quote does: unchanged when it only holds
// safe characters, else wrapped in single quotes with embedded quotes escaped.
std::string shell_quote(std::string_view s);

// Escapes text for HTML and XML content and attribute values (& < > " ' as entities) and drops
// the control characters XML 1.0 cannot hold (all below 0x20 but tab, newline and CR; DEL).
std::string markup_escape(std::string_view s);

// Splits a command line into words like Python's shlex.split (POSIX mode).
std::vector<std::string> shell_split(std::string_view s);

// Formats a double like Python's repr(float): shortest round-trip form, "1.0" for integers.
std::string python_float(double v);

}  // namespace bp
