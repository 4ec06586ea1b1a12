#include "report/value_json.h"

#include <nlohmann/json.hpp>

namespace bp {

nlohmann::json value_to_json(const Value& v) {
  if (v.is_int()) return v.as_int();
  if (v.is_float()) return v.as_double();
  if (v.is_bool()) return v.as_bool();
  if (v.is_array()) {
    nlohmann::json a = nlohmann::json::array();
    for (const Value& item : v.items()) a.push_back(value_to_json(item));
    return a;
  }
  if (v.is_table()) {
    nlohmann::json t = nlohmann::json::object();
    for (size_t i = 0; i < v.size(); ++i) t[v.keys()[i]] = value_to_json(v.items()[i]);
    return t;
  }
  if (v.is_none()) return nullptr;
  return v.to_plain_string();
}

}  // namespace bp
