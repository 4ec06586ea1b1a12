#include "config/python_repr.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "util/numbers.h"
#include "util/strings.h"

namespace bp {

std::string python_str_repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char q = has_single && !has_double ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == q || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;  // UTF-8 passes through, as Python 3 prints printable characters
    }
  }
  out += q;
  return out;
}

std::string python_repr(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNone:
      return "None";
    case Value::Type::kBool:
      return v.as_bool() ? "True" : "False";
    case Value::Type::kInt:
      return std::to_string(v.as_int());
    case Value::Type::kFloat:
      return python_float(v.as_double());
    case Value::Type::kString:
      return python_str_repr(v.as_string());
    case Value::Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        out += python_repr(v.items()[i]);
      }
      return out + "]";
    }
    case Value::Type::kTable: {
      std::string out = "{";
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        out += python_str_repr(v.keys()[i]) + ": " + python_repr(v.items()[i]);
      }
      return out + "}";
    }
  }
  return "None";
}

namespace {

// Reads what python_repr writes for a dict of scalars, left to right.
class DictReprReader {
 public:
  explicit DictReprReader(std::string_view repr) : repr_(repr) {}

  std::vector<std::pair<std::string, Value>> read() {
    std::vector<std::pair<std::string, Value>> out;
    skip_spaces();
    if (!take('{')) return {};
    for (;;) {
      skip_spaces();
      if (take('}')) return out;
      std::optional<std::string> key = str_literal();
      skip_spaces();
      if (!key || !take(':')) return {};
      skip_spaces();
      std::optional<Value> value = scalar();
      if (!value) return {};
      out.emplace_back(std::move(*key), std::move(*value));
      skip_spaces();
      if (!take(',') && !(i_ < repr_.size() && repr_[i_] == '}')) return {};
    }
  }

 private:
  void skip_spaces() {
    while (i_ < repr_.size() && repr_[i_] == ' ') ++i_;
  }
  bool take(char c) {
    if (i_ >= repr_.size() || repr_[i_] != c) return false;
    ++i_;
    return true;
  }

  // A str literal ('...' or "...") with python_str_repr's escapes; nullopt when there is none.
  std::optional<std::string> str_literal() {
    if (i_ >= repr_.size() || (repr_[i_] != '\'' && repr_[i_] != '"')) return std::nullopt;
    const char quote = repr_[i_++];
    std::string s;
    while (i_ < repr_.size() && repr_[i_] != quote) {
      if (repr_[i_] == '\\' && i_ + 1 < repr_.size())
        s += escaped(repr_[++i_]);
      else
        s += repr_[i_];
      ++i_;
    }
    if (!take(quote)) return std::nullopt;
    return s;
  }
  // The character an escape stands for; i_ is on the letter after the backslash (on the last
  // hex digit of \xNN when it returns).
  char escaped(char letter) {
    switch (letter) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'x': {
        unsigned code = 0;
        const char* digits = repr_.data() + i_ + 1;
        if (i_ + 2 < repr_.size() && std::isxdigit(static_cast<unsigned char>(digits[0])) &&
            std::from_chars(digits, digits + 2, code, 16).ptr == digits + 2) {
          i_ += 2;
          return static_cast<char>(code);
        }
        return letter;
      }
      default:
        return letter;  // \\, \' and \"
    }
  }

  // A str literal, True/False, an int or a float; any other token is taken as text.
  std::optional<Value> scalar() {
    if (std::optional<std::string> s = str_literal()) return Value::string(*s);
    const size_t end = repr_.find_first_of(",}", i_);
    if (end == std::string_view::npos) return std::nullopt;
    const std::string_view token = trim(repr_.substr(i_, end - i_));
    i_ = end;
    if (token == "True" || token == "False") return Value::boolean(token == "True");
    if (std::optional<int64_t> n = parse_whole_int(token)) return Value::integer(*n);
    if (std::optional<double> d = parse_whole_double(token)) return Value::floating(*d);
    return Value::string(std::string(token));
  }

  std::string_view repr_;
  size_t i_ = 0;
};

}  // namespace

std::vector<std::pair<std::string, Value>> parse_python_dict_repr(std::string_view repr) {
  return DictReprReader(repr).read();
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool any = false;  // the row has begun: a quote or a comma makes an empty field a field
  auto end_row = [&] {
    if (any || !field.empty()) {
      row.push_back(std::move(field));
      rows.push_back(std::move(row));
    }
    row.clear();
    field.clear();
    any = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_row();
    } else {
      field += c;
      any = true;
    }
  }
  end_row();
  return rows;
}

std::vector<std::vector<std::string>> read_csv_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  return parse_csv(text.str());
}

}  // namespace bp
