#include "workloads/nccl_test/args.h"

#include <algorithm>

#include "config/schema.h"
#include "util/error.h"
#include "util/strings.h"

namespace bp::nccl {

namespace {

ArgSpec spec(std::string name, ArgKind kind, Value def, bool emitted = true,
             std::vector<std::string> choices = {}) {
  ArgSpec s;
  s.name = std::move(name);
  s.kind = kind;
  s.default_value = std::move(def);
  s.emitted = emitted;
  s.choices = std::move(choices);
  return s;
}

std::vector<std::string> subtest_names() {
  std::vector<std::string> out;
  for (const char* c :
       {"all_reduce", "all_gather", "alltoall", "alltoallv", "broadcast", "gather", "hypercube",
        "reduce", "reduce_scatter", "scatter", "sendrecv", "bisection"}) {
    out.push_back(std::string(c) + "_perf_mpi");
    out.push_back(std::string(c) + "_perf");
  }
  return out;
}

bool is_flag_name(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// "32M", "1G", "128", 128, "1.5G": what nccl-tests' parsesize accepts.
bool is_size(const Value& v) {
  if (v.is_int()) return v.as_int() >= 0;
  if (!v.is_string()) return false;
  std::string_view s = trim(v.as_string());
  if (s.empty()) return false;
  if (char last = s.back();
      last == 'K' || last == 'k' || last == 'M' || last == 'm' || last == 'G' || last == 'g')
    s.remove_suffix(1);
  if (s.empty()) return false;
  bool dot = false;
  for (char c : s) {
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void check_one(const ArgSpec& s, const Value& v, const std::string& key_path) {
  switch (s.kind) {
    case ArgKind::kString:
      expect_string(v, key_path);
      return;
    case ArgKind::kInt:
      expect_int(v, key_path);
      return;
    case ArgKind::kNumber:
      expect_number(v, key_path);
      return;
    case ArgKind::kBool:
      expect_bool(v, key_path);
      return;
    case ArgKind::kSize:
      if (!is_size(v))
        throw ConfigError(v.loc(), key_path,
                          "expected a size in bytes such as 128, \"32M\" or \"1G\" (suffix K, M or "
                          "G), got " +
                              std::string(v.type_name()) + " " + v.to_plain_string());
      return;
    case ArgKind::kChoice: {
      std::string text = expect_string(v, key_path);
      if (std::find(s.choices.begin(), s.choices.end(), text) == s.choices.end()) {
        std::string hint = closest_match(text, s.choices);
        throw ConfigError(v.loc(), key_path,
                          "expected one of " + join(s.choices, ", ") + "; got \"" + text + "\"" +
                              (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
      }
      return;
    }
  }
}

std::string value_text(const Value& v) {
  if (v.is_bool()) return v.as_bool() ? "True" : "False";  // Python's str(), as CloudAI
  return v.to_plain_string();
}

}  // namespace

const std::vector<ArgSpec>& arg_specs() {
  static const std::vector<ArgSpec> specs = [] {
    using K = ArgKind;
    std::vector<ArgSpec> s = {
        spec("docker_image_url", K::kString, Value(), false),
        spec("subtest_name", K::kChoice, Value::string("all_reduce_perf_mpi"), false,
             subtest_names()),
        spec("nthreads", K::kInt, Value::integer(1)),
        spec("ngpus", K::kInt, Value::integer(1)),
        spec("minbytes", K::kSize, Value::string("32M")),
        spec("maxbytes", K::kSize, Value::string("32M")),
        spec("stepbytes", K::kSize, Value::string("1M")),
        spec("op", K::kChoice, Value::string("sum"), true,
             {"sum", "prod", "min", "max", "avg", "mulsum", "all"}),
        spec("datatype", K::kChoice, Value::string("float"), true,
             {"int8", "uint8", "int32", "uint32", "int64", "uint64", "half", "float", "double",
              "bfloat16", "f8e4m3", "f8e5m2", "all"}),
        spec("root", K::kInt, Value::integer(0)),
        spec("iters", K::kInt, Value::integer(20)),
        spec("warmup_iters", K::kInt, Value::integer(5)),
        spec("agg_iters", K::kInt, Value::integer(1)),
        spec("average", K::kInt, Value::integer(1)),
        spec("parallel_init", K::kInt, Value::integer(0)),
        spec("check", K::kInt, Value::integer(1)),
        spec("blocking", K::kInt, Value::integer(0)),
        spec("cudagraph", K::kInt, Value::integer(0)),
        spec("stepfactor", K::kInt, Value()),
        spec("use_deepep_matrix", K::kBool, Value::boolean(false), false),
        spec("alltoallv_matrix_container_path", K::kString,
             Value::string("/tmp/traffic_matrix.txt"), false),
        spec("min_busbw", K::kNumber, Value(), false),
    };
    for (const char* fixed : {"use_deepep_matrix", "alltoallv_matrix_container_path", "min_busbw"})
      for (ArgSpec& a : s)
        if (a.name == fixed) a.sweepable = false;
    return s;
  }();
  return specs;
}

std::vector<std::string> arg_names() {
  std::vector<std::string> out;
  for (const ArgSpec& s : arg_specs()) out.push_back(s.name);
  return out;
}

const ArgSpec* find_arg(std::string_view name) {
  for (const ArgSpec& s : arg_specs())
    if (s.name == name) return &s;
  return nullptr;
}

void validate_args(const TestDefinition& test) {
  const Value& args = test.cmd_args;
  if (args.is_none()) return;
  if (!args.is_table())
    throw ConfigError(args.loc(), "cmd_args",
                      "expected a table, got " + std::string(args.type_name()));
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& key = args.keys()[i];
    const Value& v = args.items()[i];
    const std::string path = "cmd_args." + key;
    const ArgSpec* s = find_arg(key);
    if (!s) {
      // CloudAI allows extra keys and passes them on as flags.
      if (!is_flag_name(key))
        throw ConfigError(v.loc(), path,
                          "an extra nccl-tests flag name may only hold letters, digits and '_'");
      if (v.is_table())
        throw ConfigError(v.loc(), path, "expected a value or a list of values, got a table");
      continue;
    }
    if (v.is_array()) {
      if (!s->sweepable)
        throw ConfigError(v.loc(), path, "expected one value; this field cannot be swept");
      if (v.size() == 0)
        throw ConfigError(v.loc(), path, "expected a value or a non-empty list, got an empty list");
      for (size_t j = 0; j < v.size(); ++j)
        check_one(*s, v.items()[j], path + "[" + std::to_string(j) + "]");
      continue;
    }
    check_one(*s, v, path);
  }
  // CloudAI reads the alltoallv matrix from its MoE benchmark (DeepEP) dependency's output,
  // a workload benchpilot does not have: such a test could never run.
  if (const Value* deepep = args.find("use_deepep_matrix");
      deepep && deepep->is_bool() && deepep->as_bool())
    throw UnsupportedError(
        deepep->loc(), "cmd_args.use_deepep_matrix",
        "needs CloudAI's MoE benchmark (DeepEP) workload as a dependency to produce "
        "the traffic matrix, which benchpilot does not have; set it to false");
}

Value arg_value(const TestDefinition& test, std::string_view name) {
  if (const Value* v = test.cmd_args.find(name)) return *v;
  if (const ArgSpec* s = find_arg(name)) return s->default_value;
  return Value();
}

std::string subtest_name(const TestDefinition& test) {
  return arg_value(test, "subtest_name").to_plain_string();
}

bool is_single_process(std::string_view subtest) {
  return !subtest.ends_with("_mpi");
}

std::optional<double> min_busbw(const TestDefinition& test) {
  const Value* v = test.cmd_args.find("min_busbw");
  if (!v || v->is_none()) return std::nullopt;
  return expect_number(*v, "cmd_args.min_busbw");
}

std::string docker_image(const TestDefinition& test) {
  const Value* v = test.cmd_args.find("docker_image_url");
  return v && v->is_string() ? std::string(trim(v->as_string())) : std::string();
}

namespace {

// CloudAI runs alltoallv_perf_mpi as nccl-tests' alltoallv_perf from the container's build tree,
// with -b -e -g -w -n first and every other program field as --name value (a true bool as a bare
// --name, a false one left out); the rest of the fields configure CloudAI, not the program.
std::string alltoallv_command(const TestDefinition& test) {
  const bool in_container = !docker_image(test).empty();
  std::vector<std::string> words = {in_container ? kAlltoallvContainerProgram
                                                 : std::string(kAlltoallvProgram)};
  auto one = [](const Value& v, const std::string& name) {
    if (v.is_array())
      throw ConfigError(v.loc(), "cmd_args." + name,
                        "expected one value for a run; a list is a sweep and is expanded before "
                        "the run is prepared");
    return shell_quote(value_text(v));
  };
  const std::pair<const char*, const char*> leading[] = {{"-b", "minbytes"},
                                                         {"-e", "maxbytes"},
                                                         {"-g", "ngpus"},
                                                         {"-w", "warmup_iters"},
                                                         {"-n", "iters"}};
  for (const auto& [flag, name] : leading) {
    words.push_back(flag);
    words.push_back(one(arg_value(test, name), name));
  }
  auto rest = [&](const std::string& name, const Value& v) {
    for (const auto& lead : leading)
      if (name == lead.second) return;
    if (v.is_none()) return;
    if (v.is_bool()) {
      if (v.as_bool()) words.push_back(shell_quote("--" + name));
      return;
    }
    words.push_back(shell_quote("--" + name));
    words.push_back(one(v, name));
  };
  for (const ArgSpec& s : arg_specs())
    if (s.emitted) rest(s.name, arg_value(test, s.name));
  const Value& args = test.cmd_args;
  for (size_t i = 0; i < args.size(); ++i)
    if (!find_arg(args.keys()[i])) rest(args.keys()[i], args.items()[i]);
  for (const auto& [key, value] : test.extra_cmd_args) {
    words.push_back(shell_quote(key));
    if (!value.empty()) words.push_back(shell_quote(value));
  }
  return join(words, " ");
}

}  // namespace

std::string test_command(const TestDefinition& test) {
  const std::string subtest = subtest_name(test);
  if (subtest == kAlltoallvSubtest) return alltoallv_command(test);
  const bool single = is_single_process(subtest);
  std::vector<std::string> words = {shell_quote(subtest)};
  auto flag = [&](const std::string& name, const Value& v) {
    if (v.is_array())
      throw ConfigError(v.loc(), "cmd_args." + name,
                        "expected one value for a run; a list is a sweep and is expanded before "
                        "the run is prepared");
    std::string f = name.size() == 1 ? "-" + name : "--" + name;
    if (name == "ngpus" && single) f = "-g";
    words.push_back(f);
    words.push_back(shell_quote(value_text(v)));
  };
  for (const ArgSpec& s : arg_specs()) {
    if (!s.emitted) continue;
    Value v = arg_value(test, s.name);
    if (!v.is_none()) flag(s.name, v);
  }
  const Value& args = test.cmd_args;
  for (size_t i = 0; i < args.size(); ++i)
    if (!find_arg(args.keys()[i])) flag(args.keys()[i], args.items()[i]);
  for (const auto& [key, value] : test.extra_cmd_args) {
    words.push_back(shell_quote(key));
    if (!value.empty()) words.push_back(shell_quote(value));
  }
  return join(words, " ");
}

}  // namespace bp::nccl
