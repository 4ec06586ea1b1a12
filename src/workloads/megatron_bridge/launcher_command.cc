#include "workloads/megatron_bridge/launcher_command.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>

#include "config/schema.h"
#include "core/install.h"
#include "util/error.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/args.h"

namespace bp::mbridge {

namespace fs = std::filesystem;

namespace {

std::string shell_word(std::string_view s);

// An integer field as CloudAI's model holds it once pydantic has read it: tp = "2" or 2.0
// reaches the launcher as 2 (the validator has accepted only what lax_int reads).
Value as_integers(const Value& v) {
  if (v.is_array()) {
    Value out = Value::array(v.loc());
    for (const Value& item : v.items()) out.push_back(as_integers(item));
    return out;
  }
  const std::optional<int64_t> i = lax_int(v);
  return i ? Value::integer(*i, v.loc()) : v;
}

// Collects launcher words following CloudAI's add_field/add rules. Every field is passed with
// its written_or_default (written, else CloudAI's default), as CloudAI passes a test referenced by
// test_name: the launcher then runs CloudAI's configuration whether the test is inline or not.
class ArgList {
 public:
  explicit ArgList(const Value& cmd_args) : args_(cmd_args) {}

  const Value* written(std::string_view name) const { return args_.find(name); }

  void word(std::string w) { words_.push_back(std::move(w)); }
  void flag_value(std::string_view flag, std::string value) {
    words_.emplace_back(flag);
    words_.push_back(std::move(value));
  }

  // The value the launcher receives for a field (written, else CloudAI's default), or nullptr.
  const Value* value(std::string_view name) const {
    return written_or_default(*find_arg(name), args_);
  }

  // Emits a field with its schema flag and emitted value.
  void field(std::string_view name) {
    const ArgSpec& spec = *find_arg(name);
    const Value* v = value(name);
    if (!v || v->is_none()) return;
    if (spec.bare_flag) {
      if (v->is_bool() && v->as_bool()) word(spec.flag);
      return;
    }
    // profiling_ranks keeps a string ("0,1"): pydantic's str member takes it as it is.
    if (spec.type == ArgType::kInt || (spec.type == ArgType::kRanks && !v->is_string()))
      return add(spec.flag, as_integers(*v));
    add(spec.flag, *v, name == "dataset_paths");
  }

  void fields(std::initializer_list<std::string_view> names) {
    for (std::string_view n : names) field(n);
  }

  // CloudAI's add(): booleans as true/false, lists comma-joined (or as separate words), empty
  // strings and empty lists skipped.
  void add(std::string_view flag, const Value& v, bool list_as_words = false) {
    if (v.is_bool()) return flag_value(flag, v.as_bool() ? "true" : "false");
    if (v.is_array()) {
      if (v.size() == 0) return;
      if (list_as_words) {
        word(std::string(flag));
        for (const Value& item : v.items()) word(shell_word(item.to_plain_string()));
        return;
      }
      return flag_value(flag, shell_word(v.to_plain_string()));
    }
    std::string text = v.to_plain_string();
    if (text.empty()) return;
    flag_value(flag, shell_word(text));
  }

  std::vector<std::string> take() { return std::move(words_); }

 private:
  const Value& args_;
  std::vector<std::string> words_;
};

// Values are passed as CloudAI passes them (unquoted) unless the shell would change them: then
// they are quoted so they stay one word. `nvcr.io#nvidia/nemo:26.02` needs no quotes.
std::string shell_word(std::string_view s) {
  if (s.empty() || s.front() == '#' || s.front() == '~' ||
      s.find_first_of(" \t\n'\"\\$`|&;<>()*?[]{}!") != std::string_view::npos)
    return shell_quote(s);
  return std::string(s);
}

bool truthy(const Value& v) {
  if (v.is_string()) return !v.as_string().empty();
  if (v.is_array()) return v.size() > 0;
  if (v.is_bool()) return v.as_bool();
  return !v.is_none();
}

// "[moe_router, 'moe_preprocess']" or ["moe_router", "moe_preprocess"] -> moe_router,moe_preprocess
std::string cuda_graph_scopes(const Value& v) {
  std::vector<std::string> raw;
  if (v.is_array()) {
    for (const Value& item : v.items()) raw.push_back(item.to_plain_string());
  } else {
    raw.push_back(v.to_plain_string());
  }
  std::vector<std::string> scopes;
  for (const std::string& r : raw) {
    std::string cleaned;
    for (char c : r)
      if (c != '[' && c != ']' && c != '"' && c != '\'') cleaned += c;
    for (const std::string& part : split(cleaned, ',')) {
      std::string_view s = trim(part);
      if (!s.empty()) scopes.emplace_back(s);
    }
  }
  return join(scopes, ",");
}

// CloudAI's _normalize_recompute_modules: "[layernorm, 'mlp']" or ["layernorm", "mlp"] ->
// layernorm,mlp (the launcher splits on commas, so brackets and spaces would reach Megatron).
std::string recompute_modules(const Value& v) {
  auto strip_quotes = [](std::string_view s) {
    while (!s.empty() && (s.front() == '"' || s.front() == '\'')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == '"' || s.back() == '\'')) s.remove_suffix(1);
    return std::string(s);
  };
  std::vector<std::string> items;
  if (v.is_array()) {
    for (const Value& item : v.items()) {
      std::string text = item.to_plain_string();
      if (!trim(text).empty()) items.push_back(strip_quotes(trim(text)));
    }
  } else {
    const std::string text = v.to_plain_string();
    std::string_view s = trim(text);
    if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
    for (const std::string& part : split(std::string(s), ','))
      if (!trim(part).empty()) items.push_back(strip_quotes(trim(part)));
  }
  return join(items, ",");
}

// CloudAI wraps the modules in double quotes; a value the shell would expand inside them is
// single-quoted instead.
std::string double_quoted(const std::string& s) {
  if (s.find_first_of("$`\\\"!") != std::string::npos) return shell_quote(s);
  return "\"" + s + "\"";
}

bool is_vp_one(const Value& v) {
  if (v.is_array()) return v.size() == 1 && lax_int(v.items()[0]) == 1;
  return lax_int(v) == 1;
}

std::string required_name(const TestRun& run, std::string_view name) {
  const Value* v = run.test.cmd_args.find(name);
  if (v && v->is_string() && !trim(v->as_string()).empty())
    return std::string(trim(v->as_string()));
  throw ConfigError(v ? v->loc() : run.test.loc, "cmd_args." + std::string(name),
                    "cannot be empty");
}

std::string container_image_path(const Value& image, const System& system) {
  Installable item;
  item.kind = Installable::Kind::kContainerImage;
  item.image = image.as_string();
  return installed_path(item, system).string();
}

std::vector<std::string> container_mounts(const TestRun& run, const LauncherInputs& in) {
  std::vector<std::string> mounts = run.test.extra_container_mounts;
  for (const GitRepo& repo : run.test.git_repos) {
    std::string mount = repo.mount_as;
    while (mount.size() > 1 && mount.back() == '/') mount.pop_back();
    bool is_mbridge = contains(repo.url, "Megatron-Bridge") || mount == "/opt/Megatron-Bridge";
    if (is_mbridge) {
      if (!repo.mount_as.empty()) mounts.push_back(in.mbridge_dir.string() + ":" + repo.mount_as);
      break;
    }
  }
  return mounts;
}

void reject_list(const TestRun& run, std::string_view name) {
  const Value* v = run.test.cmd_args.find(name);
  if (v && v->is_array())
    throw ConfigError(v->loc(), "cmd_args." + std::string(name),
                      "unexpected sweep list at command generation; the sweep should have "
                      "replaced it with one value");
}

// A value the launcher's parse_additional_slurm_params keeps whole (it splits on ';' and blanks)
// and NeMo-Run writes into #SBATCH unquoted.
bool is_plain_slurm_value(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v)
    if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr("._-:/", c)) return false;
  return true;
}

}  // namespace

EnvVars final_env_vars(const TestDefinition& test, const System& system) {
  std::map<std::string, std::string> env(system.global_env_vars.begin(),
                                         system.global_env_vars.end());
  const Value& extra = test.extra_env_vars;
  for (size_t i = 0; i < extra.keys().size(); ++i)
    env[extra.keys()[i]] = extra.items()[i].to_plain_string();
  return EnvVars(env.begin(), env.end());
}

std::vector<std::string> srun_args_as_slurm_params(std::string_view srun_args) {
  std::vector<std::string> words = shell_split(srun_args);
  std::vector<std::string> params;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (!w.starts_with("--"))
      throw ValueError("the word " + shell_quote(w) +
                       " is neither a --option nor the value of one, so it would be lost in "
                       "--additional_slurm_params (write --key=value or --key value)");
    std::string key = w.substr(2);
    if (key.find('=') != std::string::npos) {
      params.push_back(key);
    } else if (i + 1 < words.size() && !words[i + 1].starts_with("--")) {
      params.push_back(key + "=" + words[++i]);
    } else {
      params.push_back(key);
    }
  }
  return params;
}

std::vector<std::string> system_slurm_params(const System& system) {
  try {
    return srun_args_as_slurm_params(system.extra_srun_args);
  } catch (const ValueError& e) {
    throw ConfigError(system.loc, "extra_srun_args", e.what());
  }
}

std::vector<std::string> case_slurm_params(const TestRun& run) {
  try {
    return srun_args_as_slurm_params(run.extra_srun_args);
  } catch (const ValueError& e) {
    throw ConfigError(run.loc, "Tests." + run.id + ".extra_srun_args", e.what());
  }
}

void check_system_srun_args(const System& system) {
  system_slurm_params(system);
}

std::vector<std::string> additional_slurm_params(const TestRun& run, const System& system,
                                                 const LauncherInputs& in) {
  std::vector<std::string> params;
  if (is_plain_slurm_value(in.job_comment)) params.push_back("comment=" + in.job_comment);
  if (system.gpus_per_node && *system.gpus_per_node > 0 && in.gpu_directives_supported) {
    std::string n = std::to_string(*system.gpus_per_node);
    params.push_back("gpus-per-node=" + n);
    params.push_back("gres=gpu:" + n);
  }
  if (!in.resolved_nodes.empty()) {
    params.push_back("nodelist=" + join(in.resolved_nodes, ","));
  } else if (!run.exclude_nodes.empty()) {
    params.push_back("exclude=" + join(run.exclude_nodes, ","));
  }
  for (const std::string& p : system_slurm_params(system)) params.push_back(p);
  for (const std::string& p : case_slurm_params(run)) params.push_back(p);
  return params;
}

std::vector<std::string> hydra_overrides(const TestDefinition& test) {
  std::vector<std::pair<std::string, std::string>> items = {
      {"logger.tensorboard_dir", "/nemo_run/tb_logs"},
      {"logger.log_timers_to_tensorboard", "true"},
      {"logger.log_throughput_to_tensorboard", "true"},
      {"logger.log_memory_to_tensorboard", "true"},
  };
  // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
  for (const auto& arg : test.extra_cmd_args) {
    auto it = std::find_if(items.begin(), items.end(),
                           [&](const auto& kv) { return kv.first == arg.first; });
    if (it != items.end())
      it->second = arg.second;
    else
      items.push_back(arg);
  }
  std::vector<std::string> out;
  for (const auto& [key, value] : items) out.push_back(value.empty() ? key : key + "=" + value);
  return out;
}

std::vector<std::string> launcher_arguments(const TestRun& run, const System& system,
                                            const LauncherInputs& in) {
  const TestDefinition& test = run.test;
  reject_list(run, "nsys_trace");
  reject_list(run, "nsys_extra_args");
  std::string family = required_name(run, "model_family_name");
  std::string recipe = required_name(run, "model_recipe_name");

  ArgList a(test.cmd_args);
  if (!system.account.empty()) a.flag_value("-a", shell_word(system.account));
  if (!system.default_partition.empty()) a.flag_value("-p", shell_word(system.default_partition));
  a.field("gpu_type");
  a.field("log_dir");
  if (run.time_limit && !run.time_limit->empty()) a.flag_value("-t", shell_word(*run.time_limit));
  if (const Value* image = a.written("container_image");
      image && image->is_string() && !image->as_string().empty())
    a.flag_value("-i", shell_word(container_image_path(*image, system)));
  a.fields({"compute_dtype", "task"});
  if (offline_mode(test.cmd_args))
    a.word("--offline");  // v0.6: the launcher rejects -hf together with --offline
  else
    a.flag_value("-hf", "\"$HF_TOKEN\"");  // the value comes from the process environment
  a.field("nemo_home");
  if (const Value* key = a.written("wandb_key"); key && truthy(*key))
    a.flag_value("-wdk", "\"$WANDB_API_KEY\"");
  a.fields({"wandb_project_name", "wandb_entity_name", "wandb_experiment_name", "wandb_save_dir",
            "max_retries", "dryrun"});
  a.field("num_gpus");
  if (system.gpus_per_node) a.flag_value("-gn", std::to_string(*system.gpus_per_node));
  if (std::vector<std::string> mounts = container_mounts(run, in); !mounts.empty())
    a.flag_value("-cm", shell_word(join(mounts, ",")));
  for (const auto& [key, value] : final_env_vars(test, system))
    a.flag_value("-cb", shell_quote("export " + key + "=" + value));
  a.fields({"domain", "use_recipes", "enable_vboost"});
  a.flag_value("-m", shell_word(family));
  a.flag_value("-mr", shell_word(recipe));
  a.fields({"hidden_size", "num_layers", "pipeline_model_parallel_layout", "first_k_dense_replace",
            "enable_nsys", "use_tokendrop", "use_megatron_fsdp", "nccl_ub", "cuda_graph_impl"});
  if (const Value* scope = a.written("cuda_graph_scope"); scope && truthy(*scope)) {
    std::string scopes = cuda_graph_scopes(*scope);
    if (!scopes.empty()) a.flag_value("--cuda_graph_scope", shell_word(scopes));
  }
  a.fields({"tp", "pp", "cp"});
  if (const Value* vp = a.written("vp")) {
    if (is_vp_one(*vp))
      a.flag_value("-vp", "None");
    else
      a.field("vp");
  }
  a.fields({"ep", "et", "mb", "gb", "seq_length", "moe_a2a_overlap", "max_steps",
            "recompute_num_layers", "activation_offload_layers"});
  if (const Value* modules = a.written("recompute_modules"); modules && truthy(*modules))
    a.flag_value("--recompute_modules", double_quoted(recompute_modules(*modules)));
  a.flag_value("--detach", "false");
  a.fields({"lr", "min_lr", "warmup_iters", "pretrained_checkpoint", "save_dir", "load_dir",
            "save_interval", "most_recent_k"});
  a.field("save_config_filepath");
  a.fields({"data", "dataset_paths", "dataset_root", "index_mapping_dir", "dataset_name",
            "packed_sequence", "head_only", "tokenizer_type", "tokenizer_model", "vocab_size",
            "pytorch_profiler", "profiling_start_step", "profiling_stop_step",
            "record_memory_history", "profiling_gpu_metrics", "profiling_ranks", "nsys_trace",
            "nsys_extra_args"});
  if (std::vector<std::string> params = additional_slurm_params(run, system, in);
      in.after_pre_hook) {
    // The gate's job id and nodes are known only when the wrapper runs: expanded there, after
    // the quoted user values.
    std::string chained = "\"dependency=afterok:${PRE_HOOK_JOB_ID}";
    if (in.resolved_nodes.empty()) chained += ";nodelist=${PRE_HOOK_NODES}";
    chained += "\"";
    a.flag_value("--additional_slurm_params",
                 params.empty() ? chained : shell_quote(join(params, ";") + ";") + chained);
  } else if (!params.empty()) {
    a.flag_value("--additional_slurm_params", shell_quote(join(params, ";")));
  }
  a.fields({"config_variant", "list_config_variants"});
  for (const std::string& o : hydra_overrides(test)) a.word(shell_quote(o));
  return a.take();
}

fs::path launcher_script(const LauncherInputs& in) {
  return in.mbridge_dir / "scripts" / "performance" / "setup_experiment.py";
}

std::string launcher_command(const TestRun& run, const System& system, const LauncherInputs& in) {
  fs::path script = launcher_script(in);
  // shell_quote, not double quotes: "$(...)" in a folder name must stay text.
  std::string line = "NEMORUN_HOME=" + shell_quote(in.run_dir.string()) + " " +
                     shell_word(in.python.string()) + " " + shell_word(script.string());
  for (const std::string& w : launcher_arguments(run, system, in)) line += " " + w;
  return line;
}

}  // namespace bp::mbridge
