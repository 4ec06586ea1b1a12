// Python's repr() of config values and CSV fields as Python's csv module writes them, so files
// such as trajectory.csv read the same as CloudAI's (pandas-written) ones; and their readers,
// beside the writers so that a change to the format changes both.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/value.h"

namespace bp {

// repr() of the value as Python would hold it: True, 3, 1.5, 'text', [1, 2], {'k': 'v'}, None.
std::string python_repr(const Value& v);
// repr() of a str: single quotes unless the text holds ' and no ".
std::string python_str_repr(std::string_view s);

// The (key, value) pairs of a Python dict repr of scalars, as python_repr writes a table of
// them: {'tp': 2, 'scope': 'attn', 'lr': 0.5, 'fp8': True}. Empty when it does not parse (a
// nested list or dict does not).
std::vector<std::pair<std::string, Value>> parse_python_dict_repr(std::string_view repr);

// One CSV field, quoted (with doubled quotes) only when it holds a comma, quote or newline.
std::string csv_field(std::string_view s);

// Rows of CSV text (RFC 4180 quoting, as csv_field and Python's csv module write it; a row ends
// at \n, \r\n or \r outside quotes); the header is row 0. Blank lines are no rows.
std::vector<std::vector<std::string>> parse_csv(std::string_view text);
// parse_csv of a file's text; empty when the file is missing or unreadable.
std::vector<std::vector<std::string>> read_csv_file(const std::filesystem::path& file);

}  // namespace bp
