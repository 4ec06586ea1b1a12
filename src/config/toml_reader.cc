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
// same check) and report it before toml++ sees the text. The scanner is a small state machine
// with one step function per lexical state.
class UnsafeNonAsciiScanner {
 public:
  explicit UnsafeNonAsciiScanner(std::string_view text) : t_(text) {}

  // The 1-based line of the first unsafe non-ASCII byte, 0 if none.
  int scan() {
    for (i_ = 0; i_ < t_.size(); ++i_) {
      char c = t_[i_];
      if (c == '\n') ++line_;
      if (step(c)) return line_;
    }
    return 0;
  }

 private:
  enum class State { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  enum class Run { kNone, kKey, kValue };

  static bool is_non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }

  // Consumes t_[i_] (and, for some states, the characters after it, moving i_); true when an
  // unsafe non-ASCII byte was found.
  bool step(char c) {
    switch (st_) {
      case State::kCode:
        return step_code(c);
      case State::kComment:
        if (c == '\n') {
          st_ = State::kCode;
          last_ = '\n';
        }
        return false;
      case State::kBasic:
        if (c == '\\' && ++i_ < t_.size() && t_[i_] == '\n')
          ++line_;  // skipped an escaped character (a newline is an error toml++ reports)
        else if (c == '"' || c == '\n')
          st_ = State::kCode, last_ = c;
        return false;
      case State::kLiteral:
        if (c == '\'' || c == '\n') st_ = State::kCode, last_ = c;
        return false;
      case State::kMultiBasic:
        return step_multi_basic(c);
      case State::kMultiLiteral:
        if (t_.substr(i_, 3) == "\'\'\'") close_multi_line('\'');
        return false;
    }
    return false;
  }

  // Outside strings the text is a series of runs: bare keys, which end at whitespace = . ] and
  // the like, and bare values (numbers, dates, booleans, garbage), which toml++ scans character
  // by character up to whitespace , ] } # or a line break, through any quote, dot or '='
  // (fuzzing found both; docs/fuzzing.md). A quote opens a string only outside a run, at a line
  // start or after = [ { , or a key's dot.
  bool step_code(char c) {
    if (is_non_ascii(c)) return true;
    bool blank = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    bool value_end = blank || std::string_view(",]}#").find(c) != std::string_view::npos;
    if (run_ == Run::kValue && !value_end) {
      last_ = c;
      return false;
    }
    if (run_ == Run::kKey && !blank &&
        std::string_view("=.]},#[{").find(c) == std::string_view::npos) {
      last_ = c;
      return false;
    }
    run_ = Run::kNone;
    if (blank) {
      if (c == '\n') last_ = '\n';
      return false;
    }
    char before = last_;
    last_ = c;
    code_token(c, before);
    return false;
  }

  // A character of code outside a run: a bracket, a comment, a string's opening quote, or the
  // start of a new key or value run (`before` is the significant character before it).
  void code_token(char c, char before) {
    bool quote = c == '"' || c == '\'';
    bool opens = std::string_view("\n=[{,.").find(before) != std::string_view::npos;
    if (c == '[') {
      containers_.push_back(before == '\n' ? 'h' : 'a');  // table header or array
    } else if (c == '{') {
      containers_.push_back('t');
    } else if (c == ']' || c == '}') {
      if (!containers_.empty()) containers_.pop_back();
    } else if (c == '#') {
      st_ = State::kComment;
    } else if (quote && opens) {
      if (t_.substr(i_, 3) == "\"\"\"" || t_.substr(i_, 3) == "\'\'\'") {
        st_ = c == '"' ? State::kMultiBasic : State::kMultiLiteral;
        i_ += 2;
      } else {
        st_ = c == '"' ? State::kBasic : State::kLiteral;
      }
    } else if (c != '=' && c != ',' && c != '.') {
      bool in_array = !containers_.empty() && containers_.back() == 'a';
      run_ =
          before == '=' || ((before == '[' || before == ',') && in_array) ? Run::kValue : Run::kKey;
    }
  }

  bool step_multi_basic(char c) {
    if (c == '\\') return skip_escape_in_multi_basic();
    if (t_.substr(i_, 3) == "\"\"\"") close_multi_line('"');
    return false;
  }

  // toml++ asks whether the escaped character is whitespace and, if so, whether every character
  // up to the line break (and after it, up to the next text) is: any non-ASCII character in
  // that stretch is checked (found by fuzzing; docs/fuzzing.md) and cannot be valid there
  // anyway ("\é" is no escape).
  bool skip_escape_in_multi_basic() {
    size_t j = i_ + 1;
    while (j < t_.size() && (t_[j] == ' ' || t_[j] == '\t')) ++j;
    if (j < t_.size() && is_non_ascii(t_[j])) return true;
    if (j < t_.size() && (t_[j] == '\n' || t_[j] == '\r')) {
      while (j < t_.size() && std::string_view(" \t\r\n").find(t_[j]) != std::string_view::npos)
        if (t_[j++] == '\n') ++line_;
      if (j < t_.size() && is_non_ascii(t_[j])) return true;
      i_ = j - 1;
    } else {
      ++i_;
    }
    return false;
  }

  // At three `quote`s closing a multi-line string: up to two more quotes may end the content
  // right before the closing three.
  void close_multi_line(char quote) {
    size_t n = 0;
    while (i_ + n < t_.size() && t_[i_ + n] == quote) ++n;
    i_ += n - 1;
    st_ = State::kCode;
    last_ = quote;
  }

  std::string_view t_;
  size_t i_ = 0;
  State st_ = State::kCode;
  int line_ = 1;
  char last_ = '\n';
  Run run_ = Run::kNone;
  std::string containers_;  // open [ (a: array, h: table header) and { (t), innermost last
};

int line_of_unsafe_non_ascii(std::string_view t) {
  return UnsafeNonAsciiScanner(t).scan();
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
