// A TOML/config Value as JSON: the one converter for summary.json parameters and
// `estimate --json` params.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "config/value.h"

namespace bp {

// Integers, floats, booleans, arrays and tables as themselves; none as null; anything else
// (strings, dates, times) as its plain text.
nlohmann::json value_to_json(const Value& v);

}  // namespace bp
