#include "workloads/megatron_bridge/validate.h"

#include <algorithm>
#include <cstdlib>

#include "config/schema.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/args.h"

namespace bp::mbridge {

namespace {

constexpr std::string_view kRepoExample =
    "for example:\n"
    "  [[git_repos]]\n"
    "  url = \"https://github.com/NVIDIA-NeMo/Megatron-Bridge.git\"\n"
    "  commit = \"v0.3.0\"\n"
    "  mount_as = \"/opt/Megatron-Bridge\"";

// `string "x"`, `integer 3`, `a list`: what the user wrote, for messages.
std::string describe(const Value& v) {
  switch (v.type()) {
    case Value::Type::kString:
      return "string " + toml_string(v.as_string());
    case Value::Type::kArray:
      return "a list";
    case Value::Type::kTable:
      return "a table";
    default:
      return std::string(v.type_name()) + " " + v.to_plain_string();
  }
}

bool is_scalar_of(const Value& v, ArgType type) {
  switch (type) {
    case ArgType::kString:
      return v.is_string();
    case ArgType::kInt:
      return lax_int(v).has_value();
    case ArgType::kFloat:
      return v.is_number();
    case ArgType::kBool:
      return v.is_bool();
    case ArgType::kRanks: {
      if (lax_int(v)) return true;
      if (!v.is_string()) return false;
      for (const std::string& part : split(v.as_string(), ',')) {
        std::string_view t = trim(part);
        if (t.empty() || t.find_first_not_of("0123456789") != std::string_view::npos) return false;
      }
      return true;
    }
    case ArgType::kSize:
    case ArgType::kChoice:
      break;  // no Megatron-Bridge field has these types
  }
  return false;
}

// The item type of a list, where lists are allowed.
ArgType list_item_type(const ArgSpec& spec) {
  return spec.type == ArgType::kRanks ? ArgType::kInt : spec.type;
}

bool allows_list(const ArgSpec& spec) {
  return spec.sweepable || spec.type == ArgType::kRanks;
}

std::string expected(const ArgSpec& spec) {
  std::string text(type_description(spec.type));
  if (allows_list(spec)) text += std::string(" or ") + std::string(list_description(spec.type));
  return text;
}

// Ranges of integer fields. Sizes and counts are positive (tp = 0 or num_gpus = -8 used to be
// accepted); the upper bounds are far above any real run and keep the constraint rules'
// products of these numbers inside 64 bits.
struct IntRange {
  std::string_view name;
  int64_t min;
  int64_t max;
};
constexpr int64_t kMaxParallel = 65536;
constexpr int64_t kMaxCount = 2147483647;
constexpr IntRange kIntRanges[] = {
    {"num_gpus", 1, 1 << 24},
    {"tp", 1, kMaxParallel},
    {"pp", 1, kMaxParallel},
    {"cp", 1, kMaxParallel},
    {"vp", 1, kMaxParallel},
    {"ep", 1, kMaxParallel},
    {"et", 1, kMaxParallel},
    {"mb", 1, kMaxCount},
    {"gb", 1, kMaxCount},
    {"seq_length", 1, kMaxCount},
    {"max_steps", 1, kMaxCount},
    {"hidden_size", 1, kMaxCount},
    {"num_layers", 1, kMaxCount},
    {"vocab_size", 1, kMaxCount},
    {"num_distributed_optimizer_instances", 1, kMaxParallel},
    {"first_k_dense_replace", 0, kMaxCount},
    {"max_retries", 0, 1000},
    {"warmup_iters", 0, kMaxCount},
    {"recompute_num_layers", 0, kMaxCount},
    {"activation_offload_layers", 0, kMaxCount},
    {"save_interval", 0, kMaxCount},
    {"most_recent_k", 0, kMaxCount},
    {"profiling_start_step", 0, kMaxCount},
    {"profiling_stop_step", 0, kMaxCount},
};

void check_range(const ArgSpec& spec, const Value& item, const SourceLoc& loc) {
  const std::optional<int64_t> value = lax_int(item);
  if (!value) return;
  for (const IntRange& r : kIntRanges) {
    if (r.name != spec.name) continue;
    if (*value < r.min || *value > r.max)
      throw ConfigError(loc, "cmd_args." + spec.name,
                        "expected an integer from " + std::to_string(r.min) + " to " +
                            std::to_string(r.max) + ", got " + std::to_string(*value));
    return;
  }
}

void check_field(const ArgSpec& spec, const Value& v) {
  const std::string key = "cmd_args." + spec.name;
  if (is_scalar_of(v, spec.type)) return check_range(spec, v, v.loc());
  if (v.is_array() && allows_list(spec)) {
    if (v.size() == 0)
      throw ConfigError(v.loc(), key, "expected " + expected(spec) + ", got an empty list");
    for (const Value& item : v.items()) {
      if (!is_scalar_of(item, list_item_type(spec)))
        throw ConfigError(
            item.loc().line ? item.loc() : v.loc(), key,
            "expected " + expected(spec) + ", got a list containing " + describe(item));
      check_range(spec, item, item.loc().line ? item.loc() : v.loc());
    }
    return;
  }
  std::string msg = "expected " + expected(spec) + ", got " + describe(v);
  if (v.is_array()) msg += " (a list makes a sweep, which this field does not support)";
  throw ConfigError(v.loc(), key, msg);
}

// Megatron's names for CUDA-graph scopes and recompute modules are lower-case. CloudAI's
// constraint check lower-cases them but its command passes the text as written, so "MLP" would
// pass the rules and fail in Megatron: refuse it here, once, with the spelling to use.
constexpr std::string_view kLowerCaseFields[] = {"cuda_graph_scope", "recompute_modules"};

void check_lower_case(const ArgSpec& spec, const Value& v) {
  if (std::find(std::begin(kLowerCaseFields), std::end(kLowerCaseFields), spec.name) ==
      std::end(kLowerCaseFields))
    return;
  auto check_item = [&](const Value& item, const SourceLoc& loc) {
    if (!item.is_string() || to_lower(item.as_string()) == item.as_string()) return;
    throw ConfigError(loc, "cmd_args." + spec.name,
                      "expected lower-case names (Megatron's spelling), got " +
                          toml_string(item.as_string()) + "; write " +
                          toml_string(to_lower(item.as_string())));
  };
  if (!v.is_array()) return check_item(v, v.loc());
  for (const Value& item : v.items()) check_item(item, item.loc().line ? item.loc() : v.loc());
}

void check_not_blank(const TestDefinition& test, const std::string& name, const char* example) {
  const Value* v = test.cmd_args.find(name);
  if (v && v->is_string() && !trim(v->as_string()).empty()) return;
  SourceLoc loc = v ? v->loc() : test.cmd_args.loc();
  if (loc.file.empty()) loc = test.loc;
  throw ConfigError(loc, "cmd_args." + name,
                    std::string("cannot be empty: set it in [cmd_args], e.g. ") + name + " = \"" +
                        example + "\"");
}

void check_git_repos(const TestDefinition& test) {
  const GitRepo* repo = find_mbridge_repo(test);
  if (!repo) {
    std::string why =
        test.git_repos.empty()
            ? "MegatronBridge needs the Megatron-Bridge repository pinned to a commit"
            : "none of the [[git_repos]] is the Megatron-Bridge repository (url "
              "containing \"Megatron-Bridge\" or mount_as = \"/opt/Megatron-Bridge\")";
    throw ConfigError(test.loc, "git_repos", why + "; add it, " + std::string(kRepoExample));
  }
  if (trim(repo->commit).empty()) {
    SourceLoc loc = repo->loc.file.empty() ? test.loc : repo->loc;
    throw ConfigError(loc, "git_repos.commit",
                      "the Megatron-Bridge repository " + repo->url +
                          " must be pinned with a non-empty commit (launcher flags change between "
                          "releases), " +
                          std::string(kRepoExample));
  }
}

}  // namespace

const GitRepo* find_mbridge_repo(const TestDefinition& test) {
  for (const GitRepo& repo : test.git_repos) {
    std::string mount = repo.mount_as;
    while (!mount.empty() && mount.back() == '/') mount.pop_back();
    if (contains(repo.url, "Megatron-Bridge") || mount == "/opt/Megatron-Bridge") return &repo;
  }
  return nullptr;
}

void validate(const TestDefinition& test) {
  const Value& args = test.cmd_args;
  if (!args.is_table() && !args.is_none())
    throw ConfigError(args.loc(), "cmd_args", "expected a table, got " + describe(args));
  for (size_t i = 0; i < args.keys().size(); ++i) {
    const std::string& key = args.keys()[i];
    const Value& v = args.items()[i];
    if (key == "gpus_per_node") {
      log::warn(v.loc().str() +
                ": cmd_args.gpus_per_node is ignored: the system's gpus_per_node "
                "is passed to the launcher (-gn)");
      continue;
    }
    const ArgSpec* spec = find_arg(key);
    if (!spec) {
      log::warn(v.loc().str() + ": cmd_args." + key +
                " is not a MegatronBridge argument; it is kept but not passed to the launcher");
      continue;
    }
    check_field(*spec, v);
    check_lower_case(*spec, v);
  }
  check_not_blank(test, "model_family_name", "qwen");
  check_not_blank(test, "model_recipe_name", "qwen3_30b_a3b");
  check_git_repos(test);
}

std::string resolve_hf_token(const TestDefinition& test) {
  if (const Value* v = test.cmd_args.find("hf_token"); v && v->is_string()) {
    std::string_view token = trim(v->as_string());
    if (!token.empty()) return std::string(token);
  }
  const char* env = std::getenv("HF_TOKEN");
  return env ? std::string(trim(env)) : std::string();
}

void preflight(const TestDefinition& test) {
  // offline = true (v0.6 launchers): HF_HUB_OFFLINE=1 from a pre-filled cache, no token.
  if (offline_mode(test.cmd_args)) return;
  if (!resolve_hf_token(test).empty()) return;
  const Value* v = test.cmd_args.find("hf_token");
  SourceLoc loc = v ? v->loc() : test.loc;
  throw ConfigError(loc, "cmd_args.hf_token",
                    "a Hugging Face token is required for test '" + test.name +
                        "': export HF_TOKEN=<your token> before running (recommended), set "
                        "cmd_args.hf_token in the test TOML, or, with a Megatron-Bridge v0.6 "
                        "launcher and a filled HF cache, set cmd_args.offline = true");
}

}  // namespace bp::mbridge
