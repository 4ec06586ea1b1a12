#include "sweep/field_decode.h"

#include "config/schema.h"
#include "util/error.h"
#include "util/strings.h"

namespace bp {

namespace {

[[noreturn]] void wrong_type(const Value& v, const std::string& key_path, const char* expected) {
  throw ConfigError(v.loc(), key_path,
                    std::string("expected ") + expected + ", got " + std::string(v.type_name()) +
                        " " + v.to_toml_inline());
}

// Python's str.strip() then strip("\"'").
std::string_view strip_quotes(std::string_view s) {
  s = trim(s);
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == '"' || s[b] == '\'')) ++b;
  while (e > b && (s[e - 1] == '"' || s[e - 1] == '\'')) --e;
  return s.substr(b, e - b);
}

std::string_view strip_brackets(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

int64_t decode_int(const Value& v, const std::string& key_path) {
  if (auto i = lax_int(v)) return *i;
  wrong_type(v, key_path, "an integer");
}

bool decode_bool(const Value& v, const std::string& key_path) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_int() && (v.as_int() == 0 || v.as_int() == 1)) return v.as_int() == 1;
  if (v.is_string()) {
    std::string s = to_lower(trim(v.as_string()));
    if (s == "true" || s == "1" || s == "yes" || s == "on" || s == "t" || s == "y") return true;
    if (s == "false" || s == "0" || s == "no" || s == "off" || s == "f" || s == "n") return false;
  }
  wrong_type(v, key_path, "a boolean");
}

std::string decode_string(const Value& v, const std::string& key_path) {
  if (v.is_string()) return v.as_string();
  if (v.is_array() || v.is_table()) wrong_type(v, key_path, "a string");
  return v.to_plain_string();
}

std::vector<std::string> normalize_str_list(const Value& v, const std::string& key_path) {
  std::vector<std::string> items;
  if (v.is_array()) {
    // List branch: empty segments are dropped after stripping.
    for (const Value& raw : v.items()) {
      // Keep the decoded text alive: the views below point into it (ASan found a dangling view
      // into the temporary).
      std::string text = decode_string(raw, key_path);
      std::string_view s = strip_brackets(strip_quotes(text));
      for (const std::string& seg : split(s, ',')) {
        std::string item = to_lower(strip_quotes(seg));
        if (!item.empty()) items.push_back(std::move(item));
      }
    }
    return items;
  }
  // String branch: segments that are blank before quote stripping are dropped.
  std::string text = decode_string(v, key_path);
  std::string_view s = strip_brackets(strip_quotes(text));
  for (const std::string& seg : split(s, ','))
    if (!trim(seg).empty()) items.push_back(to_lower(strip_quotes(seg)));
  return items;
}

}  // namespace bp
