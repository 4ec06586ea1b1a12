// Python's repr() of config values and CSV fields as Python's csv module writes them, so files
// such as trajectory.csv read the same as CloudAI's (pandas-written) ones.
#pragma once

#include <string>
#include <string_view>

#include "config/value.h"

namespace bp {

// repr() of the value as Python would hold it: True, 3, 1.5, 'text', [1, 2], {'k': 'v'}, None.
std::string python_repr(const Value& v);
// repr() of a str: single quotes unless the text holds ' and no ".
std::string python_str_repr(std::string_view s);

// One CSV field, quoted (with doubled quotes) only when it holds a comma, quote or newline.
std::string csv_field(std::string_view s);

}  // namespace bp
