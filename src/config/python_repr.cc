#include "config/python_repr.h"

#include <cstdio>

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

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace bp
