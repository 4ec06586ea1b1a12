#include "config/value.h"

#include "util/strings.h"

namespace bp {

Value Value::boolean(bool b, SourceLoc loc) {
  Value v;
  v.type_ = Type::kBool;
  v.b_ = b;
  v.loc_ = std::move(loc);
  return v;
}
Value Value::integer(int64_t i, SourceLoc loc) {
  Value v;
  v.type_ = Type::kInt;
  v.i_ = i;
  v.loc_ = std::move(loc);
  return v;
}
Value Value::floating(double f, SourceLoc loc) {
  Value v;
  v.type_ = Type::kFloat;
  v.f_ = f;
  v.loc_ = std::move(loc);
  return v;
}
Value Value::string(std::string s, SourceLoc loc) {
  Value v;
  v.type_ = Type::kString;
  v.s_ = std::move(s);
  v.loc_ = std::move(loc);
  return v;
}
Value Value::array(SourceLoc loc) {
  Value v;
  v.type_ = Type::kArray;
  v.loc_ = std::move(loc);
  return v;
}
Value Value::table(SourceLoc loc) {
  Value v;
  v.type_ = Type::kTable;
  v.loc_ = std::move(loc);
  return v;
}

std::string_view Value::type_name() const {
  switch (type_) {
    case Type::kNone:
      return "nothing";
    case Type::kBool:
      return "boolean";
    case Type::kInt:
      return "integer";
    case Type::kFloat:
      return "float";
    case Type::kString:
      return "string";
    case Type::kArray:
      return "array";
    case Type::kTable:
      return "table";
  }
  return "?";
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::kTable) return nullptr;
  for (size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) return &items_[i];
  return nullptr;
}

Value* Value::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}

const Value* Value::find_path(std::string_view dotted) const {
  const Value* cur = this;
  size_t start = 0;
  while (cur) {
    size_t dot = dotted.find('.', start);
    std::string_view part = dotted.substr(start, dot == std::string_view::npos ? dot : dot - start);
    cur = cur->find(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return cur;
}

void Value::set(std::string key, Value v) {
  if (type_ == Type::kNone) type_ = Type::kTable;
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return;
  }
  keys_.push_back(std::move(key));
  items_.push_back(std::move(v));
}

bool Value::erase(std::string_view key) {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) {
      keys_.erase(keys_.begin() + static_cast<long>(i));
      items_.erase(items_.begin() + static_cast<long>(i));
      return true;
    }
  }
  return false;
}

std::string Value::to_plain_string() const {
  switch (type_) {
    case Type::kNone:
      return "";
    case Type::kBool:
      return b_ ? "true" : "false";
    case Type::kInt:
      return std::to_string(i_);
    case Type::kFloat:
      return python_float(f_);
    case Type::kString:
      return s_;
    case Type::kArray: {
      std::vector<std::string> parts;
      for (const Value& v : items_) parts.push_back(v.to_plain_string());
      return join(parts, ",");
    }
    case Type::kTable:
      return to_toml_inline();
  }
  return "";
}

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string toml_key(std::string_view key) {
  bool bare = !key.empty();
  for (char c : key)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) bare = false;
  return bare ? std::string(key) : toml_string(key);
}

std::string Value::to_toml_inline() const {
  switch (type_) {
    case Type::kNone:
      return "\"\"";
    case Type::kString:
      return toml_string(s_);
    case Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) out += ", ";
        out += items_[i].to_toml_inline();
      }
      return out + "]";
    }
    case Type::kTable: {
      if (items_.empty()) return "{}";
      std::string out = "{ ";
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) out += ", ";
        out += toml_key(keys_[i]) + " = " + items_[i].to_toml_inline();
      }
      return out + " }";
    }
    default:
      return to_plain_string();
  }
}

bool Value::operator==(const Value& o) const {
  if (type_ != o.type_) {
    if (is_number() && o.is_number()) return as_double() == o.as_double();
    return false;
  }
  switch (type_) {
    case Type::kNone:
      return true;
    case Type::kBool:
      return b_ == o.b_;
    case Type::kInt:
      return i_ == o.i_;
    case Type::kFloat:
      return f_ == o.f_;
    case Type::kString:
      return s_ == o.s_;
    case Type::kArray:
      return items_ == o.items_;
    case Type::kTable:
      return keys_ == o.keys_ && items_ == o.items_;
  }
  return false;
}

void deep_merge(Value& base, const Value& overlay) {
  if (!base.is_table() || !overlay.is_table()) {
    base = overlay;
    return;
  }
  for (size_t i = 0; i < overlay.keys().size(); ++i) {
    const std::string& key = overlay.keys()[i];
    const Value& ov = overlay.items()[i];
    Value* bv = base.find(key);
    if (bv && bv->is_table() && ov.is_table())
      deep_merge(*bv, ov);
    else
      base.set(key, ov);
  }
}

namespace {

bool is_table_array(const Value& v) {
  if (!v.is_array() || v.items().empty()) return false;
  for (const Value& item : v.items())
    if (!item.is_table()) return false;
  return true;
}

void write_table(const Value& table, const std::string& prefix, std::string& out) {
  // Scalars and inline arrays first, then sub-tables, then arrays of tables: TOML requires
  // plain keys to come before any [section] of the same table.
  for (size_t i = 0; i < table.keys().size(); ++i) {
    const Value& v = table.items()[i];
    if (v.is_table() || is_table_array(v)) continue;
    out += toml_key(table.keys()[i]) + " = " + v.to_toml_inline() + "\n";
  }
  for (size_t i = 0; i < table.keys().size(); ++i) {
    const Value& v = table.items()[i];
    std::string name =
        prefix.empty() ? toml_key(table.keys()[i]) : prefix + "." + toml_key(table.keys()[i]);
    if (v.is_table()) {
      out += "\n[" + name + "]\n";
      write_table(v, name, out);
    } else if (is_table_array(v)) {
      for (const Value& item : v.items()) {
        out += "\n[[" + name + "]]\n";
        write_table(item, name, out);
      }
    }
  }
}

}  // namespace

std::string to_toml_document(const Value& table) {
  std::string out;
  write_table(table, "", out);
  return out;
}

}  // namespace bp
