#include "config/schema.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/error.h"
#include "util/numbers.h"
#include "util/strings.h"

namespace bp {

std::string join_key_path(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return std::string(prefix) + "." + std::string(key);
}

std::string index_key_path(std::string_view prefix, size_t index) {
  return std::string(prefix) + "[" + std::to_string(index) + "]";
}

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// A string as pydantic's lax int reads it (see lax_int in schema.h).
std::optional<int64_t> int_from_text(std::string_view s) {
  s = trim(s);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  // Trailing ".0", ".00", ...: an integral decimal.
  if (size_t dot = s.find('.'); dot != std::string_view::npos) {
    std::string_view fraction = s.substr(dot + 1);
    if (fraction.empty() || fraction.find_first_not_of('0') != std::string_view::npos)
      return std::nullopt;
    s = s.substr(0, dot);
  }
  // Digits with single underscores between them, accumulated as a negative number so that
  // INT64_MIN fits.
  if (s.empty() || s.front() == '_' || s.back() == '_') return std::nullopt;
  int64_t magnitude = 0;  // <= 0
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (s[i + 1] == '_') return std::nullopt;
      continue;
    }
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    if (__builtin_mul_overflow(magnitude, 10, &magnitude) ||
        __builtin_sub_overflow(magnitude, s[i] - '0', &magnitude))
      return std::nullopt;
  }
  if (negative) return magnitude;
  if (magnitude == std::numeric_limits<int64_t>::min()) return std::nullopt;
  return -magnitude;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::vector<std::string> q;
  for (const auto& n : names) q.push_back("'" + n + "'");
  return join(q, ", ");
}

}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::string::npos;
  std::string lower_word = to_lower(word);
  for (const auto& c : candidates) {
    std::string lower_c = to_lower(c);
    size_t d = edit_distance(lower_word, lower_c);
    // A truncated key ("mount" for "mount_as") is as good a guess as a one-letter typo.
    if (lower_word.size() >= 3 &&
        (lower_c.starts_with(lower_word) || lower_word.starts_with(lower_c)))
      d = std::min<size_t>(d, 1);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  // A typo changes a few characters; beyond that the suggestion is noise.
  size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_distance <= limit ? best : std::string();
}

std::string expect_string(const Value& v, const std::string& key_path) {
  if (!v.is_string())
    throw ConfigError(v.loc(), key_path,
                      std::string("expected a string, got ") + std::string(v.type_name()));
  return v.as_string();
}

std::optional<int64_t> lax_int(const Value& v) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  if (v.is_float()) {
    // 2^63 is exact in a double; every integral double below it fits in 64 bits.
    constexpr double kTwoPow63 = 9223372036854775808.0;
    double d = v.as_double();
    if (std::isfinite(d) && d == std::trunc(d) && d >= -kTwoPow63 && d < kTwoPow63)
      return static_cast<int64_t>(d);
    return std::nullopt;
  }
  if (v.is_string()) return int_from_text(v.as_string());
  return std::nullopt;
}

int64_t expect_int(const Value& v, const std::string& key_path) {
  if (auto i = lax_int(v)) return *i;
  if (v.is_string())
    throw ConfigError(v.loc(), key_path,
                      "expected an integer, got the string \"" + v.as_string() + "\"");
  if (v.is_float())
    throw ConfigError(v.loc(), key_path,
                      "expected an integer, got float " + v.to_plain_string() +
                          " (a fractional part, not finite, or beyond 64 bits)");
  throw ConfigError(v.loc(), key_path,
                    std::string("expected an integer, got ") + std::string(v.type_name()));
}

double expect_number(const Value& v, const std::string& key_path) {
  if (v.is_number()) return v.as_double();
  if (v.is_string()) {
    if (auto out = parse_whole_double(trim(v.as_string()))) return *out;
    throw ConfigError(v.loc(), key_path,
                      "expected a number, got the string \"" + v.as_string() + "\"");
  }
  throw ConfigError(v.loc(), key_path,
                    std::string("expected a number, got ") + std::string(v.type_name()));
}

double expect_finite_number(const Value& v, const std::string& key_path) {
  double d = expect_number(v, key_path);
  if (!std::isfinite(d))
    throw ConfigError(v.loc(), key_path,
                      "expected a finite number, got " + v.to_plain_string() +
                          " (nan and inf cannot be a threshold or an expected value)");
  return d;
}

bool expect_bool(const Value& v, const std::string& key_path) {
  if (!v.is_bool())
    throw ConfigError(v.loc(), key_path,
                      std::string("expected true or false, got ") + std::string(v.type_name()));
  return v.as_bool();
}

std::vector<std::string> expect_string_list(const Value& v, const std::string& key_path) {
  if (!v.is_array())
    throw ConfigError(v.loc(), key_path,
                      std::string("expected a list of strings, got ") + std::string(v.type_name()));
  std::vector<std::string> out;
  for (size_t i = 0; i < v.items().size(); ++i)
    out.push_back(expect_string(v.items()[i], index_key_path(key_path, i)));
  return out;
}

std::string expect_one_line_string(const Value& v, const std::string& key_path) {
  std::string s = expect_string(v, key_path);
  if (has_control_char(s))
    throw ConfigError(v.loc(), key_path,
                      "expected one line of text without control characters (newline, tab, "
                      "NUL...), got " +
                          toml_string(s));
  return s;
}

TableFields::TableFields(const Value& table, std::string path, std::string what)
    : table_(table), path_(std::move(path)), what_(std::move(what)) {
  if (!table_.is_table())
    throw ConfigError(table_.loc(), path_,
                      "expected a table (" + what_ + "), got " + std::string(table_.type_name()));
}

void TableFields::fail(std::string_view key, const std::string& message) const {
  const Value* v = get(key);
  throw ConfigError(v ? v->loc() : table_.loc(), key_path(key), message);
}

std::string TableFields::required_string(std::string_view key) const {
  const Value* v = get(key);
  if (!v) fail(key, "missing required key '" + std::string(key) + "' in " + what_);
  return expect_string(*v, key_path(key));
}

std::optional<std::string> TableFields::optional_string(std::string_view key) const {
  const Value* v = get(key);
  if (!v) return std::nullopt;
  return expect_string(*v, key_path(key));
}

std::string TableFields::string_or(std::string_view key, std::string fallback) const {
  auto v = optional_string(key);
  return v ? *v : std::move(fallback);
}

int64_t TableFields::required_int(std::string_view key) const {
  const Value* v = get(key);
  if (!v) fail(key, "missing required key '" + std::string(key) + "' in " + what_);
  return expect_int(*v, key_path(key));
}

std::optional<int64_t> TableFields::optional_int(std::string_view key) const {
  const Value* v = get(key);
  if (!v) return std::nullopt;
  return expect_int(*v, key_path(key));
}

int64_t TableFields::int_at_least(std::string_view key, int64_t min_value, int64_t fallback) const {
  auto v = optional_int(key);
  if (!v) return fallback;
  if (*v < min_value)
    fail(key,
         "expected an integer >= " + std::to_string(min_value) + ", got " + std::to_string(*v));
  return *v;
}

int64_t TableFields::int_in_range(std::string_view key, int64_t min_value, int64_t max_value,
                                  int64_t fallback) const {
  auto v = optional_int(key);
  if (!v) return fallback;
  if (*v < min_value || *v > max_value)
    fail(key, "expected an integer from " + std::to_string(min_value) + " to " +
                  std::to_string(max_value) + ", got " + std::to_string(*v));
  return *v;
}

std::string TableFields::required_safe_name(std::string_view key) const {
  std::string s = required_string(key);
  if (!is_safe_name(s))
    fail(key, "expected " + std::string(kSafeNameRule) + " (it names folders and jobs), got " +
                  toml_string(s));
  return s;
}

std::string TableFields::one_line_string_or(std::string_view key, std::string fallback) const {
  const Value* v = get(key);
  if (!v) return fallback;
  return expect_one_line_string(*v, key_path(key));
}

std::vector<std::string> TableFields::one_line_string_list(std::string_view key) const {
  std::vector<std::string> out = string_list(key);
  for (size_t i = 0; i < out.size(); ++i)
    expect_one_line_string(get(key)->items()[i], index_key_path(key_path(key), i));
  return out;
}

std::string TableFields::srun_args_or_empty(std::string_view key) const {
  std::string args = one_line_string_or(key, "");
  std::vector<std::string> words;
  try {
    words = shell_split(args);
  } catch (const std::exception& e) {
    fail(key, std::string("cannot split into words as a shell would (") + e.what() +
                  "): " + toml_string(args));
  }
  if (!words.empty() && !words.front().starts_with("-"))
    fail(key, "expected srun options starting with '-', got " + toml_string(args));
  return args;
}

std::optional<double> TableFields::optional_number(std::string_view key) const {
  const Value* v = get(key);
  if (!v) return std::nullopt;
  return expect_number(*v, key_path(key));
}

double TableFields::number_or(std::string_view key, double fallback) const {
  auto v = optional_number(key);
  return v ? *v : fallback;
}

std::optional<bool> TableFields::optional_bool(std::string_view key) const {
  const Value* v = get(key);
  if (!v) return std::nullopt;
  return expect_bool(*v, key_path(key));
}

bool TableFields::bool_or(std::string_view key, bool fallback) const {
  auto v = optional_bool(key);
  return v ? *v : fallback;
}

std::vector<std::string> TableFields::string_list(std::string_view key) const {
  const Value* v = get(key);
  if (!v) return {};
  return expect_string_list(*v, key_path(key));
}

const Value* TableFields::optional_table(std::string_view key) const {
  const Value* v = get(key);
  if (v && !v->is_table()) fail(key, "expected a table, got " + std::string(v->type_name()));
  return v;
}

const Value* TableFields::optional_array(std::string_view key) const {
  const Value* v = get(key);
  if (v && !v->is_array()) fail(key, "expected a list, got " + std::string(v->type_name()));
  return v;
}

void TableFields::check_keys(const std::vector<std::string>& allowed) const {
  for (const std::string& key : table_.keys()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = "unknown key '" + key + "' in " + what_;
    std::string suggestion = closest_match(key, allowed);
    if (!suggestion.empty()) message += "; did you mean '" + suggestion + "'?";
    message += " (allowed keys: " + quoted_list(allowed) + ")";
    fail(key, message);
  }
}

}  // namespace bp
