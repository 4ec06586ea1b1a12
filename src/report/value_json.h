// A TOML/config Value as JSON: the one converter for summary.json parameters and
// `estimate --json` params. Two others differ on purpose: the journal's typed codec
// (campaign/journal.cc: values must come back with their type) and training_report.json's
// scalars (a Megatron-Bridge plug-in file, which cannot include report/; null for what is not
// a scalar).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "config/value.h"

namespace bp {

// Integers, floats, booleans, arrays and tables as themselves; none as null; anything else
// (strings, dates, times) as its plain text.
nlohmann::json value_to_json(const Value& v);

}  // namespace bp
