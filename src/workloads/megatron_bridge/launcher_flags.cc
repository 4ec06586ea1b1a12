#include "workloads/megatron_bridge/launcher_flags.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/error.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/args.h"

namespace bp::mbridge {

namespace fs = std::filesystem;

namespace {

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Length of the Python string literal starting at s[i] (with an optional r/b/f/u prefix), or 0
// when s[i] does not start one. `value` receives its contents (escapes kept as written except
// \" and \').
size_t string_literal(std::string_view s, size_t i, std::string* value = nullptr) {
  size_t start = i;
  while (i < s.size() && i - start < 2 && std::strchr("rRbBfFuU", s[i]) && s[i] != '\0') ++i;
  if (i >= s.size() || (s[i] != '"' && s[i] != '\'')) return 0;
  if (i > start && start > 0 && is_ident_char(s[start - 1])) return 0;
  char q = s[i];
  bool triple = s.substr(i, 3) == std::string(3, q);
  size_t open = triple ? 3 : 1;
  std::string out;
  for (size_t j = i + open; j < s.size(); ++j) {
    if (s[j] == '\\' && j + 1 < s.size()) {
      if (s[j + 1] != q) out += s[j];
      out += s[++j];
      continue;
    }
    if (triple ? s.substr(j, 3) == std::string(3, q) : s[j] == q) {
      if (value) *value = out;
      return j + open - start;
    }
    if (!triple && s[j] == '\n') break;
    out += s[j];
  }
  return 0;
}

// s[open] is an opening bracket; returns the index of its matching close (or npos).
size_t matching_close(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (size_t n = string_literal(s, i)) {
      i += n - 1;
      continue;
    }
    char c = s[i];
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') {
      if (--depth == 0) return i;
    }
  }
  return std::string_view::npos;
}

// Splits the inside of a call on top-level commas.
std::vector<std::string_view> split_args(std::string_view s) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (size_t n = string_literal(s, i)) {
      i += n - 1;
      continue;
    }
    char c = s[i];
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (std::string_view last = trim(s.substr(start)); !last.empty()) out.push_back(last);
  return out;
}

// The string literals of a literal list/tuple/set/dict (dict: keys only).
std::vector<std::string> literal_strings(std::string_view s) {
  std::vector<std::string> out;
  bool dict = !s.empty() && s.front() == '{';
  for (size_t i = 0; i < s.size(); ++i) {
    std::string v;
    if (size_t n = string_literal(s, i, &v)) {
      size_t after = i + n;
      while (after < s.size() && (s[after] == ' ' || s[after] == '\n' || s[after] == '\t')) ++after;
      if (!dict || (after < s.size() && s[after] == ':')) out.push_back(v);
      i += n - 1;
    }
  }
  return out;
}

// The literal bound to a top-level `NAME = [...]` / `NAME = {...}` (empty when not found).
std::string_view top_level_literal(std::string_view text, std::string_view name) {
  size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string_view::npos) {
    bool line_start = pos == 0 || text[pos - 1] == '\n';
    size_t i = pos + name.size();
    pos = i;
    if (!line_start || (i < text.size() && is_ident_char(text[i]))) continue;
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size() || text[i] != '=' || (i + 1 < text.size() && text[i + 1] == '=')) continue;
    ++i;
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size() || !std::strchr("[({", text[i])) continue;
    size_t close = matching_close(text, i);
    if (close == std::string_view::npos) return {};
    return text.substr(i, close - i + 1);
  }
  return {};
}

std::vector<std::string> resolve_choices(std::string_view expr, std::string_view text) {
  expr = trim(expr);
  if (!expr.empty() && std::strchr("[({", expr.front())) return literal_strings(expr);
  // list(NAME.keys()), sorted(NAME), NAME.keys(), NAME
  for (std::string_view wrapper : {"list(", "sorted(", "tuple(", "set("}) {
    if (expr.starts_with(wrapper) && expr.ends_with(")"))
      expr = trim(expr.substr(wrapper.size(), expr.size() - wrapper.size() - 1));
  }
  size_t end = 0;
  while (end < expr.size() && is_ident_char(expr[end])) ++end;
  std::string_view name = expr.substr(0, end);
  if (name.empty()) return {};
  return literal_strings(top_level_literal(text, name));
}

std::string describe_version(std::string_view commit, const LauncherFlagSet& flags) {
  std::string text =
      "the Megatron-Bridge launcher pinned at commit \"" + std::string(commit) + "\"";
  if (flags.flat_recipes) text += " (flat perf recipes: v0.6 or later)";
  return text;
}

bool contains_choice(const LauncherFlag& flag, std::string_view value) {
  for (const std::string& c : flag.choices)
    if (c == value) return true;
  return false;
}

// Whether the launcher receives `spec`'s flag for this test, as launcher_arguments emits it.
bool is_emitted(const ArgSpec& spec, const Value* v, bool offline) {
  if (spec.name == "hf_token") return !offline;  // always passed ("$HF_TOKEN") unless offline
  if (!v || v->is_none()) return false;
  if (spec.bare_flag) return v->is_bool() && v->as_bool();
  if (v->is_string()) return !trim(v->as_string()).empty();
  if (v->is_array()) return v->size() > 0;
  return true;
}

std::string choice_hint(const ArgSpec& spec, std::string_view value, const LauncherFlag& flag) {
  if (spec.name == "task" && value == "lora" && contains_choice(flag, "peft"))
    return "; this launcher calls LoRA fine-tuning \"peft\": set task = \"peft\"";
  if (spec.name == "task" && value == "peft" && contains_choice(flag, "lora"))
    return "; this launcher calls PEFT \"lora\": set task = \"lora\"";
  return "";
}

}  // namespace

const LauncherFlag* LauncherFlagSet::find(std::string_view name) const {
  for (const LauncherFlag& f : flags)
    for (const std::string& n : f.names)
      if (n == name) return &f;
  return nullptr;
}

LauncherFlagSet parse_launcher_flags(std::string_view text) {
  LauncherFlagSet set;
  constexpr std::string_view kCall = "add_argument";
  size_t pos = 0;
  while ((pos = text.find(kCall, pos)) != std::string_view::npos) {
    size_t i = pos + kCall.size();
    bool word_start = pos == 0 || !is_ident_char(text[pos - 1]);
    pos = i;
    if (!word_start) continue;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
    if (i >= text.size() || text[i] != '(') continue;  // add_argument_group, ...
    size_t close = matching_close(text, i);
    if (close == std::string_view::npos) break;
    LauncherFlag flag;
    for (std::string_view arg : split_args(text.substr(i + 1, close - i - 1))) {
      std::string literal;
      if (size_t n = string_literal(arg, 0, &literal); n == arg.size() && n > 0) {
        if (literal.starts_with("-")) flag.names.push_back(literal);
        continue;
      }
      size_t eq = arg.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view key = trim(arg.substr(0, eq));
      std::string_view value = trim(arg.substr(eq + 1));
      if (key == "choices") flag.choices = resolve_choices(value, text);
      if (key == "required") flag.required = value == "True";
    }
    if (!flag.names.empty()) set.flags.push_back(std::move(flag));
    pos = close;
  }
  return set;
}

std::optional<LauncherFlagSet> read_launcher_flags(const fs::path& clone) {
  fs::path file = clone / "scripts" / "performance" / "argument_parser.py";
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  LauncherFlagSet set = parse_launcher_flags(buf.str());
  std::error_code ec;
  set.flat_recipes = fs::is_directory(clone / "src" / "megatron" / "bridge" / "perf_recipes", ec);
  return set;
}

void check_against_launcher(const TestDefinition& test, const LauncherFlagSet& flags,
                            std::string_view commit) {
  bool offline = offline_mode(test.cmd_args);
  for (const ArgSpec& spec : arg_specs()) {
    if (spec.flag.empty()) continue;
    const Value* v = written_or_default(spec, test.cmd_args);
    if (!is_emitted(spec, v, offline)) continue;
    const Value* written = test.cmd_args.find(spec.name);
    SourceLoc loc = written ? written->loc() : test.loc;
    const std::string key = "cmd_args." + spec.name;
    const LauncherFlag* flag = flags.find(spec.flag);
    if (!flag) {
      std::string why = describe_version(commit, flags) + " has no " + spec.flag + " flag";
      if (spec.name == "offline")
        why +=
            "; remove offline (this launcher needs an HF token) or pin Megatron-Bridge "
            "v0.6.0 or later";
      else if (written)
        why += "; remove " + spec.name + " or pin a Megatron-Bridge version that has it";
      throw ConfigError(loc, key, why);
    }
    if (flag->choices.empty() || !v || spec.name == "hf_token") continue;
    std::vector<const Value*> values;
    if (v->is_array())
      for (const Value& item : v->items()) values.push_back(&item);
    else
      values.push_back(v);
    for (const Value* item : values) {
      if (!item->is_string()) continue;
      std::string value = item->as_string();
      if (spec.name == "domain") value = to_lower(value);  // the launcher lower-cases it
      if (contains_choice(*flag, value)) continue;
      throw ConfigError(item->loc().line ? item->loc() : loc, key,
                        "\"" + item->as_string() + "\" is not accepted by " +
                            describe_version(commit, flags) + " (" + spec.flag + " choices: " +
                            join(flag->choices, ", ") + ")" + choice_hint(spec, value, *flag));
    }
  }
}

}  // namespace bp::mbridge
