// Typed field readers over a Value table, for the config loaders.
//
// Every failure is a ConfigError naming the file, the line, the key path and what was expected,
// so a user can fix a config without reading code. Integer fields follow lax_int, CloudAI's rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/value.h"

namespace bp {

// "a.b" from ("a", "b"); just "b" when the prefix is empty.
std::string join_key_path(std::string_view prefix, std::string_view key);
// "Tests[2]" from ("Tests", 2).
std::string index_key_path(std::string_view prefix, size_t index);

// The candidate closest to `word` by edit distance, or "" when none is close enough to be a
// plausible typo.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// The one integer rule: what pydantic v2 accepts for an `int` field in lax mode (CloudAI's
// models), limited to 64 bits. A TOML integer; true/false as 1/0; a float with no fractional
// part (2.0, 9e15; not 2.5, nan or inf); a string that, blanks trimmed, is an optional sign and
// digits, '_' allowed between two digits, optionally followed by '.' and zeros ("2", "+2",
// " 2 ", "2_000", "2.00"; not "2.5", "1e3", "0x10", "2_"). nullopt for anything else.
std::optional<int64_t> lax_int(const Value& v);

// Conversions of one value found at `key_path`; throw ConfigError at the value's location.
std::string expect_string(const Value& v, const std::string& key_path);
// lax_int, or an error naming what was written.
int64_t expect_int(const Value& v, const std::string& key_path);
double expect_number(const Value& v, const std::string& key_path);
// expect_number without nan and inf: a threshold or a reference that compares false with every
// measurement (nan) or that nothing can reach (inf) cannot work.
double expect_finite_number(const Value& v, const std::string& key_path);
bool expect_bool(const Value& v, const std::string& key_path);
std::vector<std::string> expect_string_list(const Value& v, const std::string& key_path);
// A string without newlines or other control characters (see has_control_char).
std::string expect_one_line_string(const Value& v, const std::string& key_path);

// Reads the fields of one table. The table must outlive the reader.
class TableFields {
 public:
  // `path` is the key path of the table itself: "" for a file's top level, "Tests[2]", ...
  // `what` names the table in messages ("system", "test", "scenario case").
  TableFields(const Value& table, std::string path, std::string what);

  const Value& table() const { return table_; }
  const std::string& path() const { return path_; }
  std::string key_path(std::string_view key) const { return join_key_path(path_, key); }
  const Value* get(std::string_view key) const { return table_.find(key); }
  bool has(std::string_view key) const { return get(key) != nullptr; }

  // Throws a ConfigError at the key's line (or the table's, when the key is absent).
  [[noreturn]] void fail(std::string_view key, const std::string& message) const;

  std::string required_string(std::string_view key) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  std::string string_or(std::string_view key, std::string fallback) const;

  int64_t required_int(std::string_view key) const;
  std::optional<int64_t> optional_int(std::string_view key) const;
  // An integer that must be >= min_value; `fallback` when absent.
  int64_t int_at_least(std::string_view key, int64_t min_value, int64_t fallback) const;

  // An integer in [min_value, max_value]; `fallback` when absent.
  int64_t int_in_range(std::string_view key, int64_t min_value, int64_t max_value,
                       int64_t fallback) const;

  // A name that becomes a folder, a job name or a script word (is_safe_name): scenario names,
  // case ids. Rejected with the allowed characters named.
  std::string required_safe_name(std::string_view key) const;

  // A string that ends up on one line of a generated file (an #SBATCH directive, a path): no
  // newline or other control character. `fallback` when absent.
  std::string one_line_string_or(std::string_view key, std::string fallback) const;
  std::vector<std::string> one_line_string_list(std::string_view key) const;

  // Extra srun options (extra_srun_args): one line that splits into words as a shell would,
  // starting with an option. The words are quoted one by one where they enter a script.
  std::string srun_args_or_empty(std::string_view key) const;

  std::optional<double> optional_number(std::string_view key) const;
  double number_or(std::string_view key, double fallback) const;

  std::optional<bool> optional_bool(std::string_view key) const;
  bool bool_or(std::string_view key, bool fallback) const;

  // Empty when absent.
  std::vector<std::string> string_list(std::string_view key) const;
  // nullptr when absent; error when present but not a table / not an array.
  const Value* optional_table(std::string_view key) const;
  const Value* optional_array(std::string_view key) const;

  // Rejects keys not in `allowed`, suggesting the closest allowed key.
  void check_keys(const std::vector<std::string>& allowed) const;

 private:
  const Value& table_;
  std::string path_;
  std::string what_;
};

}  // namespace bp
