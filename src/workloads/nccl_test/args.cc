#include "workloads/nccl_test/args.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "config/schema.h"
#include "util/error.h"
#include "util/strings.h"

namespace bp::nccl {

namespace {

// Passed as --name unless `emitted` is false; an integer within a C int unless widened below.
ArgSpec spec(std::string name, ArgType type, Value def, bool emitted = true,
             std::vector<std::string> choices = {}) {
  ArgSpec s;
  s.name = std::move(name);
  s.type = type;
  s.default_value = std::move(def);
  s.sweepable = true;
  if (emitted) s.flag = "--" + s.name;
  s.choices = std::move(choices);
  s.min_int = std::numeric_limits<int32_t>::min();
  s.max_int = std::numeric_limits<int32_t>::max();
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

std::string describe(const Value& v) {
  return std::string(v.type_name()) + " " + v.to_toml_inline();
}

void check_one(const ArgSpec& s, const Value& v, const std::string& key_path) {
  switch (s.type) {
    case ArgType::kString:
      expect_string(v, key_path);
      return;
    case ArgType::kInt: {
      int64_t i = expect_int(v, key_path);
      if (i < s.min_int || i > s.max_int)
        throw ConfigError(v.loc(), key_path,
                          "expected an integer from " + std::to_string(s.min_int) + " to " +
                              std::to_string(s.max_int) + " (what nccl-tests can run), got " +
                              std::to_string(i));
      return;
    }
    case ArgType::kFloat:
      // min_busbw, a bus bandwidth in GB/s.
      if (expect_finite_number(v, key_path) < 0)
        throw ConfigError(v.loc(), key_path,
                          "expected a bus bandwidth of 0 GB/s or more, got " + v.to_plain_string());
      return;
    case ArgType::kBool:
      expect_bool(v, key_path);
      return;
    case ArgType::kSize:
      if (!size_in_bytes(v))
        throw ConfigError(v.loc(), key_path,
                          "expected a size in bytes below 2^63 such as 128, \"32M\" or \"1.5G\" "
                          "(suffix K, M or G, powers of 1024), got " +
                              describe(v));
      return;
    case ArgType::kChoice: {
      std::string text = expect_string(v, key_path);
      if (std::find(s.choices.begin(), s.choices.end(), text) == s.choices.end()) {
        std::string hint = closest_match(text, s.choices);
        throw ConfigError(v.loc(), key_path,
                          "expected one of " + join(s.choices, ", ") + "; got \"" + text + "\"" +
                              (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
      }
      return;
    }
    case ArgType::kRanks:
      throw std::logic_error("no NcclTest field is of type kRanks");
  }
}

// The values the runs of a test give a field: each item of a sweep list, else the value
// written, else the default (none when the field has no default).
std::vector<Value> run_values(const Value& args, std::string_view name) {
  const Value* v = args.find(name);
  if (!v) v = &find_arg(name)->default_value;
  if (v->is_none()) return {};
  if (v->is_array()) return v->items();
  return {*v};
}

// Where to point for a value: its own line, else (a default) the [cmd_args] table.
SourceLoc where(const Value& v, const Value& args) {
  return v.loc().line ? v.loc() : args.loc();
}

std::string size_text(const Value& v) {
  return v.to_plain_string() + " = " + std::to_string(*size_in_bytes(v)) + " bytes";
}

// The size sweep nccl-tests walks, for every combination a sweep can produce: minbytes up to
// maxbytes, times stepfactor when it is above 1, else plus stepbytes. nccl-tests refuses
// minbytes > maxbytes; it never ends when the size cannot grow.
void check_size_walk(const TestDefinition& test) {
  // A size flag passed as an extra key (b = "1M" gives -b) or in extra_cmd_args comes later on
  // the command line and wins: the fields then do not say which walk runs.
  const Value& args = test.cmd_args;
  for (const char* flag : {"b", "e", "i", "f"})
    if (args.find(flag)) return;
  for (const auto& [key, value] : test.extra_cmd_args)
    for (const char* flag :
         {"-b", "-e", "-i", "-f", "--minbytes", "--maxbytes", "--stepbytes", "--stepfactor"})
      if (key == flag) return;
  const std::vector<Value> mins = run_values(args, "minbytes");
  const std::vector<Value> maxs = run_values(args, "maxbytes");
  auto bytes = [](const Value& v) { return *size_in_bytes(v); };
  auto by_bytes = [&](const Value& a, const Value& b) { return bytes(a) < bytes(b); };
  for (const Value& m : mins)
    if (bytes(m) == 0)
      throw ConfigError(where(m, args), "cmd_args.minbytes",
                        "a minbytes of 0 bytes never ends: nccl-tests multiplies the size to walk "
                        "the sizes (its warm-up doubles it since v2.16.8, as stepfactor > 1 does) "
                        "and 0 stays 0; start at 1 byte or more");
  const Value& largest_min = *std::max_element(mins.begin(), mins.end(), by_bytes);
  const Value& smallest_max = *std::min_element(maxs.begin(), maxs.end(), by_bytes);
  if (bytes(largest_min) > bytes(smallest_max)) {
    const bool min_written = args.find("minbytes") != nullptr;
    throw ConfigError(where(min_written ? largest_min : smallest_max, args),
                      min_written ? "cmd_args.minbytes" : "cmd_args.maxbytes",
                      "minbytes (" + size_text(largest_min) + ") is above maxbytes (" +
                          size_text(smallest_max) +
                          "): nccl-tests refuses it (\"invalid sizes for 'minbytes' and "
                          "'maxbytes'\")");
  }
  const Value& smallest_min = *std::min_element(mins.begin(), mins.end(), by_bytes);
  const Value& largest_max = *std::max_element(maxs.begin(), maxs.end(), by_bytes);
  if (bytes(smallest_min) == bytes(largest_max)) return;  // one size: no step is taken
  // nccl-tests holds stepfactor unsigned: only 0 and 1 (and none, its default 1) fall back to
  // stepbytes; a negative factor wraps to a huge multiplier.
  std::vector<Value> factors = run_values(args, "stepfactor");
  const bool adds_stepbytes =
      factors.empty() || std::any_of(factors.begin(), factors.end(), [](const Value& f) {
        return expect_int(f, "cmd_args.stepfactor") == 0 ||
               expect_int(f, "cmd_args.stepfactor") == 1;
      });
  if (!adds_stepbytes) return;
  for (const Value& step : run_values(args, "stepbytes"))
    if (bytes(step) == 0)
      throw ConfigError(where(step, args), "cmd_args.stepbytes",
                        "stepbytes = 0 with stepfactor unset, 0 or 1 and minbytes "
                        "below maxbytes never ends: nccl-tests then adds stepbytes to the size; "
                        "use stepbytes > 0 or stepfactor > 1");
}

// nccl-tests divides each time by iters * agg_iters, a product of two C ints: beyond a C int it
// overflows (undefined behaviour) and the reported times are garbage.
void check_iteration_product(const Value& args) {
  auto largest = [&](std::string_view name) {
    int64_t most = 0;
    for (const Value& v : run_values(args, name))
      most = std::max(most, expect_int(v, "cmd_args." + std::string(name)));
    return most;
  };
  const int64_t iters = largest("iters"), agg_iters = largest("agg_iters");
  if (iters * agg_iters <= std::numeric_limits<int32_t>::max()) return;
  const Value* written = args.find("agg_iters");
  const char* key = written ? "cmd_args.agg_iters" : "cmd_args.iters";
  if (!written) written = args.find("iters");
  throw ConfigError(where(*written, args), key,
                    "iters (" + std::to_string(iters) + ") times agg_iters (" +
                        std::to_string(agg_iters) +
                        ") is above 2147483647: nccl-tests divides the time by this product of "
                        "two C ints, which then overflows");
}

std::string value_text(const Value& v) {
  if (v.is_bool()) return v.as_bool() ? "True" : "False";  // Python's str(), as CloudAI
  return v.to_plain_string();
}

// A field's text on the command line: an integer field as CloudAI's model holds it once
// pydantic has read it (iters = "20", 20.0 or " 20 " all give 20), anything else as written.
std::string arg_text(std::string_view name, const Value& v) {
  const ArgSpec* s = find_arg(name);
  if (s && s->type == ArgType::kInt)
    if (auto i = lax_int(v)) return std::to_string(*i);
  return value_text(v);
}

}  // namespace

const std::vector<ArgSpec>& arg_specs() {
  static const std::vector<ArgSpec> specs = [] {
    using K = ArgType;
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
        spec("min_busbw", K::kFloat, Value(), false),
    };
    for (const char* fixed : {"use_deepep_matrix", "alltoallv_matrix_container_path", "min_busbw"})
      for (ArgSpec& a : s)
        if (a.name == fixed) a.sweepable = false;
    // nccl-tests' own limits (src/common.cu): it starts nthreads threads of ngpus GPUs each,
    // divides the time by iters * agg_iters, takes root -1 for every rank and average 0-4
    // (rank 0, mean, min, max, sum; MPI has no operation for others), and reads stepfactor
    // as a long. The other integers are C ints it only compares or counts down.
    auto range = [&](std::string_view name, int64_t lo, int64_t hi) {
      for (ArgSpec& a : s)
        if (a.name == name) a.min_int = lo, a.max_int = hi;
    };
    const int64_t int_max = std::numeric_limits<int32_t>::max();
    range("nthreads", 1, int_max);
    range("ngpus", 1, int_max);
    range("iters", 1, int_max);
    range("agg_iters", 1, int_max);
    range("root", -1, int_max);
    range("average", 0, 4);
    range("stepfactor", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
    return s;
  }();
  return specs;
}

std::vector<std::string> arg_names() {
  return bp::arg_names(arg_specs());
}

const ArgSpec* find_arg(std::string_view name) {
  return bp::find_arg(arg_specs(), name);
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
  check_size_walk(test);
  check_iteration_product(args);
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
  if (const ArgSpec* s = find_arg(name))
    if (const Value* v = written_or_default(*s, test.cmd_args)) return *v;
  if (const Value* v = test.cmd_args.find(name)) return *v;  // an extra key
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
  return expect_finite_number(*v, "cmd_args.min_busbw");
}

std::optional<int64_t> size_in_bytes(const Value& v) {
  if (v.is_int()) return v.as_int() >= 0 ? std::optional<int64_t>(v.as_int()) : std::nullopt;
  // A NUL would end the command-line word early.
  if (!v.is_string() || v.as_string().find('\0') != std::string::npos) return std::nullopt;
  // parsesize: sscanf(text, "%lf %1s"), a number as strtod reads it, then the next non-blank
  // character, if any, is the unit.
  const char* text = v.as_string().c_str();
  char* end = nullptr;
  const double number = std::strtod(text, &end);
  if (end == text) return std::nullopt;
  while (std::isspace(static_cast<unsigned char>(*end))) ++end;
  double unit = 1;
  switch (*end) {
    case '\0':
      break;
    case 'G':
    case 'g':
      unit = 1024.0 * 1024 * 1024;
      break;
    case 'M':
    case 'm':
      unit = 1024.0 * 1024;
      break;
    case 'K':
    case 'k':
      unit = 1024.0;
      break;
    default:
      return std::nullopt;
  }
  const double bytes = number * unit;
  // 2^63 is exact in a double; nccl-tests keeps whole bytes (it truncates).
  if (!std::isfinite(bytes) || bytes < 0 || bytes >= 9223372036854775808.0) return std::nullopt;
  return static_cast<int64_t>(bytes);
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
    return shell_quote(arg_text(name, v));
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
    if (!s.flag.empty()) rest(s.name, arg_value(test, s.name));
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
    words.push_back(shell_quote(arg_text(name, v)));
  };
  for (const ArgSpec& s : arg_specs()) {
    if (s.flag.empty()) continue;
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
