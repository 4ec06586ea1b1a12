#include "config/cmd_args_schema.h"

namespace bp {

std::vector<std::string> arg_names(const std::vector<ArgSpec>& specs) {
  std::vector<std::string> names;
  for (const ArgSpec& s : specs) names.push_back(s.name);
  return names;
}

const ArgSpec* find_arg(const std::vector<ArgSpec>& specs, std::string_view name) {
  for (const ArgSpec& s : specs)
    if (s.name == name) return &s;
  return nullptr;
}

const Value* written_or_default(const ArgSpec& spec, const Value& cmd_args) {
  if (const Value* v = cmd_args.find(spec.name)) return v;
  return spec.default_value.is_none() ? nullptr : &spec.default_value;
}

}  // namespace bp
