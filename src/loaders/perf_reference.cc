#include "loaders/perf_reference.h"

#include "config/schema.h"
#include "util/error.h"

namespace bp {

namespace {

PerfReference read_one(const Value& t, const std::string& where, bool selectors) {
  if (!t.is_table())
    throw ConfigError(
        t.loc(), where,
        "expected a table (value and tolerance, or baseline), got " + std::string(t.type_name()));
  PerfReference ref;
  ref.loc = t.loc();
  for (size_t k = 0; k < t.size(); ++k) {
    const std::string& key = t.keys()[k];
    const Value& v = t.items()[k];
    const std::string path = where + "." + key;
    if (selectors && (key == "case" || key == "model")) {
      if (!v.is_string()) throw ConfigError(v.loc(), path, "expected a string");
      (key == "case" ? ref.case_id : ref.model) = v.as_string();
    } else if (key == "params") {
      if (!v.is_table()) throw ConfigError(v.loc(), path, "expected a table of values");
      for (size_t p = 0; p < v.size(); ++p) {
        std::string name = v.keys()[p];
        if (name.find('.') == std::string::npos) name = "cmd_args." + name;
        const Value& pv = v.items()[p];
        if (pv.is_table() || pv.is_array())
          throw ConfigError(pv.loc(), path + "." + v.keys()[p],
                            "expected one value (a point's), not a list or table");
        ref.params.emplace_back(name, pv.is_string() ? pv.as_string() : pv.to_toml_inline());
      }
    } else if (key == "value" || key == "step_time") {  // step_time: the older name of value
      if (!v.is_number() || expect_finite_number(v, path) <= 0)
        throw ConfigError(v.loc(), path,
                          key == "step_time"
                              ? "expected a positive number of seconds"
                              : "expected a positive number (the comparison metric's expected "
                                "mean: seconds of step time, GB/s of bus bandwidth, ...)");
      ref.step_time = v.as_double();
    } else if (key == "tolerance") {
      if (!v.is_number() || expect_finite_number(v, path) < 0 || v.as_double() >= 1)
        throw ConfigError(v.loc(), path, "expected a fraction in [0, 1), e.g. 0.05 for 5%");
      ref.tolerance = v.as_double();
    } else if (key == "baseline") {
      if (!v.is_string() || v.as_string() != "last_passing")
        throw ConfigError(v.loc(), path, "expected \"last_passing\"");
      ref.last_passing = true;
    } else {
      throw ConfigError(v.loc(), path,
                        std::string("unknown key; expected ") + (selectors ? "case, model, " : "") +
                            "params, value (or step_time), tolerance or baseline");
    }
  }
  if (ref.step_time.has_value() == ref.last_passing)
    throw ConfigError(
        t.loc(), where,
        "expected either value = <expected mean> (or step_time = <seconds>) or baseline = "
        "\"last_passing\"");
  return ref;
}

}  // namespace

std::vector<PerfReference> read_perf_references(const Value& v, const std::string& key_path,
                                                bool selectors) {
  std::vector<PerfReference> out;
  if (!v.is_array()) {
    out.push_back(read_one(v, key_path, selectors));
    return out;
  }
  if (v.size() == 0)
    throw ConfigError(v.loc(), key_path, "expected one or more reference tables, got []");
  for (size_t i = 0; i < v.size(); ++i)
    out.push_back(read_one(v.items()[i], key_path + "[" + std::to_string(i) + "]", selectors));
  return out;
}

}  // namespace bp
