#include "config/toml_reader.h"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

#include "util/files.h"

namespace bp {

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

// toml++ 3.3.0 (Debian 12) reaches __builtin_unreachable() — undefined behaviour — when it asks
// whether a non-ASCII character outside a string is whitespace (e.g. `namé = 1`, or a stray byte
// order mark variant), found by fuzz/fuzz_config_system. TOML allows non-ASCII text only in
// strings and comments, so such a file is invalid anyway: find the first non-ASCII byte outside
// them (or right after a line-ending backslash in a multi-line string, where toml++ does the
// same check) and report it before toml++ sees the text. Returns the 1-based line, 0 if none.
int line_of_unsafe_non_ascii(std::string_view t) {
  enum class State { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  State st = State::kCode;
  int line = 1;
  char last = '\n';
  enum class Run { kNone, kKey, kValue };
  Run run = Run::kNone;
  std::string containers;  // open [ (a: array, h: table header) and { (t), innermost last
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '\n') ++line;
    bool non_ascii = static_cast<unsigned char>(c) >= 0x80;
    switch (st) {
      case State::kCode: {
        if (non_ascii) return line;
        // Outside strings the text is a series of runs: bare keys, which end at whitespace = .
        // ] and the like, and bare values (numbers, dates, booleans, garbage), which toml++
        // scans character by character up to whitespace , ] } # or a line break, through any
        // quote, dot or '=' (fuzzing found both; docs/fuzzing.md). A quote opens a string only
        // outside a run, at a line start or after = [ { , or a key's dot.
        bool blank = c == ' ' || c == '\t' || c == '\r' || c == '\n';
        bool value_end = blank || std::string_view(",]}#").find(c) != std::string_view::npos;
        if (run == Run::kValue && !value_end) {
          last = c;
          break;
        }
        if (run == Run::kKey && !blank &&
            std::string_view("=.]},#[{").find(c) == std::string_view::npos) {
          last = c;
          break;
        }
        run = Run::kNone;
        if (blank) {
          if (c == '\n') last = '\n';
          break;
        }
        bool quote = c == '"' || c == '\'';
        bool opens = std::string_view("\n=[{,.").find(last) != std::string_view::npos;
        char before = last;
        last = c;
        if (c == '[') {
          containers.push_back(before == '\n' ? 'h' : 'a');  // table header or array
        } else if (c == '{') {
          containers.push_back('t');
        } else if (c == ']' || c == '}') {
          if (!containers.empty()) containers.pop_back();
        } else if (c == '#') {
          st = State::kComment;
        } else if (quote && opens) {
          if (t.substr(i, 3) == "\"\"\"" || t.substr(i, 3) == "\'\'\'") {
            st = c == '"' ? State::kMultiBasic : State::kMultiLiteral;
            i += 2;
          } else {
            st = c == '"' ? State::kBasic : State::kLiteral;
          }
        } else if (c != '=' && c != ',' && c != '.') {
          bool in_array = !containers.empty() && containers.back() == 'a';
          run = before == '=' || ((before == '[' || before == ',') && in_array) ? Run::kValue
                                                                                : Run::kKey;
        }
        break;
      }
      case State::kComment:
        if (c == '\n') {
          st = State::kCode;
          last = '\n';
        }
        break;
      case State::kBasic:
        if (c == '\\' && ++i < t.size() && t[i] == '\n')
          ++line;  // skipped an escaped character (a newline is an error toml++ reports)
        else if (c == '"' || c == '\n')
          st = State::kCode, last = c;
        break;
      case State::kLiteral:
        if (c == '\'' || c == '\n') st = State::kCode, last = c;
        break;
      case State::kMultiBasic:
        if (c == '\\') {
          // toml++ asks whether the escaped character is whitespace and, if so, whether every
          // character up to the line break (and after it, up to the next text) is: any
          // non-ASCII character in that stretch is checked (found by fuzzing; docs/fuzzing.md) and
          // cannot be valid there anyway ("\é" is no escape).
          size_t j = i + 1;
          while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
          if (j < t.size() && static_cast<unsigned char>(t[j]) >= 0x80) return line;
          if (j < t.size() && (t[j] == '\n' || t[j] == '\r')) {
            while (j < t.size() && std::string_view(" \t\r\n").find(t[j]) != std::string_view::npos)
              if (t[j++] == '\n') ++line;
            if (j < t.size() && static_cast<unsigned char>(t[j]) >= 0x80) return line;
            i = j - 1;
          } else {
            ++i;
          }
        } else if (t.substr(i, 3) == "\"\"\"") {
          // Up to two quotes may end the content right before the closing three.
          size_t n = 0;
          while (i + n < t.size() && t[i + n] == '"') ++n;
          i += n - 1;
          st = State::kCode;
          last = '"';
        }
        break;
      case State::kMultiLiteral:
        if (t.substr(i, 3) == "\'\'\'") {
          size_t n = 0;
          while (i + n < t.size() && t[i + n] == '\'') ++n;
          i += n - 1;
          st = State::kCode;
          last = '\'';
        }
        break;
    }
  }
  return 0;
}

}  // namespace

Value read_toml_string(std::string_view text, const std::string& name) {
  if (int line = line_of_unsafe_non_ascii(text))
    throw ConfigError(SourceLoc{name, line}, "",
                      "invalid TOML: a non-ASCII character outside a string or comment");
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
