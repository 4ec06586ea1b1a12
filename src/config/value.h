// A TOML-like value tree that remembers where each value was written.
//
// Config files are read into this tree (config/toml_reader.h), merged (scenario overrides into
// tests), validated against schemas, and written back out (test-run.toml). Keeping it separate
// from toml++ keeps that heavy header out of everything but the reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace bp {

class Value {
 public:
  enum class Type { kNone, kBool, kInt, kFloat, kString, kArray, kTable };

  Value() = default;
  static Value boolean(bool b, SourceLoc loc = {});
  static Value integer(int64_t i, SourceLoc loc = {});
  static Value floating(double f, SourceLoc loc = {});
  static Value string(std::string s, SourceLoc loc = {});
  static Value array(SourceLoc loc = {});
  static Value table(SourceLoc loc = {});

  Type type() const { return type_; }
  bool is_none() const { return type_ == Type::kNone; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_int() const { return type_ == Type::kInt; }
  bool is_float() const { return type_ == Type::kFloat; }
  bool is_number() const { return is_int() || is_float(); }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_table() const { return type_ == Type::kTable; }
  // Name of the type for error messages: "integer", "string", "table", ...
  std::string_view type_name() const;

  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_double() const { return type_ == Type::kInt ? static_cast<double>(i_) : f_; }
  const std::string& as_string() const { return s_; }

  // Arrays and tables share the item list; tables also have keys (same order as items).
  const std::vector<Value>& items() const { return items_; }
  std::vector<Value>& items() { return items_; }
  const std::vector<std::string>& keys() const { return keys_; }
  size_t size() const { return items_.size(); }
  void push_back(Value v) { items_.push_back(std::move(v)); }

  // Table access. find returns nullptr when absent (or when this is not a table).
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  // Looks up a dotted path ("a.b.c") through nested tables.
  const Value* find_path(std::string_view dotted) const;
  // Inserts or replaces, keeping the original position of an existing key.
  void set(std::string key, Value v);
  bool erase(std::string_view key);

  const SourceLoc& loc() const { return loc_; }
  void set_loc(SourceLoc loc) { loc_ = std::move(loc); }

  // Renders a scalar the way a user would write it on a command line: true/false, 42, 1.5, text.
  // Arrays render as comma-joined items.
  std::string to_plain_string() const;
  // Renders as an inline TOML value: "text", [1, 2], { a = 1 }.
  std::string to_toml_inline() const;

  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }

 private:
  Type type_ = Type::kNone;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::vector<Value> items_;
  std::vector<std::string> keys_;
  SourceLoc loc_;
};

// Merges overlay into base: tables merge key by key (recursively), everything else in overlay
// replaces what base had. This is CloudAI's rule for scenario overrides of a named test.
void deep_merge(Value& base, const Value& overlay);

// Writes a table as a TOML document (nested tables as [a.b] sections, arrays of tables as
// [[a]]). Keys are quoted when needed.
std::string to_toml_document(const Value& table);

// Quotes a TOML key when it is not a bare key.
std::string toml_key(std::string_view key);
// Escapes a string as a TOML basic string, quotes included.
std::string toml_string(std::string_view s);

}  // namespace bp
