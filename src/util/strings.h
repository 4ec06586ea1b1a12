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
// safe characters, else wrapped in single quotes with embedded quotes escaped. A launcher command
// that must match CloudAI's text quotes only what the shell would change (its own shell_word).
std::string shell_quote(std::string_view s);

// Escapes text for HTML and XML content and attribute values (& < > " ' as entities) and drops
// the control characters XML 1.0 cannot hold (all below 0x20 but tab, newline and CR; DEL).
std::string markup_escape(std::string_view s);

// Splits a command line into words like Python's shlex.split (POSIX mode).
std::vector<std::string> shell_split(std::string_view s);

// Names that become folder names, job names and script words (scenario names, case ids): 1 to
// 128 of A-Z a-z 0-9 . _ -, not starting with '.' or '-'. Nothing in such a name can escape a
// folder, start an option or mean anything to a shell.
bool is_safe_name(std::string_view s);
// What is_safe_name accepts, for error messages.
inline constexpr std::string_view kSafeNameRule =
    "1 to 128 letters, digits, '.', '_' or '-', not starting with '.' or '-'";

// A POSIX shell variable name: [A-Za-z_][A-Za-z0-9_]*.
bool is_shell_identifier(std::string_view s);

// True when s holds a control character (newline, carriage return, NUL, escape, ...). Such text
// must not reach a line-based file (an #SBATCH directive, a path in a script).
bool has_control_char(std::string_view s);

// Valid UTF-8: every invalid byte sequence replaced by U+FFFD (binary logs in reports).
std::string sanitize_utf8(std::string_view s);

// Formats a double like Python's repr(float): shortest round-trip form, "1.0" for integers.
std::string python_float(double v);

}  // namespace bp
