#include "config/toml_reader.h"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

#include "util/files.h"

namespace bp {

ConfigError::ConfigError(const SourceLoc& loc, const std::string& key_path,
                         const std::string& message)
    : std::runtime_error(loc.str() + ": " + (key_path.empty() ? "" : key_path + ": ") + message),
      loc_(loc),
      key_path_(key_path),
      message_(message) {}

namespace {

SourceLoc loc_of(const toml::node& node, const std::string& file) {
  return SourceLoc{file, static_cast<int>(node.source().begin.line)};
}

Value convert(const toml::node& node, const std::string& file) {
  SourceLoc loc = loc_of(node, file);
  switch (node.type()) {
    case toml::node_type::table: {
      Value out = Value::table(loc);
      // toml++ keeps keys sorted by name; CloudAI (Python) keeps file order, which decides the
      // order of env vars and arguments in generated commands. Restore it from key positions.
      std::vector<std::pair<const toml::key*, const toml::node*>> entries;
      for (const auto& [key, child] : *node.as_table()) entries.emplace_back(&key, &child);
      std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        const auto& pa = a.first->source().begin;
        const auto& pb = b.first->source().begin;
        return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
      });
      for (const auto& [key_ptr, child_ptr] : entries) {
        const toml::key& key = *key_ptr;
        const toml::node& child = *child_ptr;
        Value v = convert(child, file);
        // Keys carry the more useful line: where the key was written.
        if (key.source().begin.line > 0)
          v.set_loc(SourceLoc{file, static_cast<int>(key.source().begin.line)});
        out.set(std::string(key.str()), std::move(v));
      }
      return out;
    }
    case toml::node_type::array: {
      Value out = Value::array(loc);
      for (const auto& child : *node.as_array()) out.push_back(convert(child, file));
      return out;
    }
    case toml::node_type::string:
      return Value::string(std::string(*node.value<std::string_view>()), loc);
    case toml::node_type::integer:
      return Value::integer(*node.value<int64_t>(), loc);
    case toml::node_type::floating_point:
      return Value::floating(*node.value<double>(), loc);
    case toml::node_type::boolean:
      return Value::boolean(*node.value<bool>(), loc);
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: {
      // Dates are not used by any schema; keep them as text for error messages.
      std::ostringstream os;
      if (auto d = node.as_date())
        os << *d;
      else if (auto t = node.as_time())
        os << *t;
      else if (auto dt = node.as_date_time())
        os << *dt;
      return Value::string(os.str(), loc);
    }
    default:
      return Value();
  }
}

}  // namespace

Value read_toml_string(std::string_view text, const std::string& name) {
  try {
    toml::table tbl = toml::parse(text, name);
    Value v = convert(tbl, name);
    v.set_loc(SourceLoc{name, 0});
    return v;
  } catch (const toml::parse_error& e) {
    SourceLoc loc{name, static_cast<int>(e.source().begin.line)};
    std::string msg(e.description());
    throw ConfigError(loc, "", "invalid TOML: " + msg);
  }
}

Value read_toml_file(const std::filesystem::path& path) {
  std::string text;
  try {
    text = read_regular_file(path);
  } catch (const FileError& e) {
    throw ConfigError(SourceLoc{path.string(), 0}, "", e.what());
  }
  return read_toml_string(text, path.string());
}

}  // namespace bp
