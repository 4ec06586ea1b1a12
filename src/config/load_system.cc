#include "config/load_system.h"

#include "config/schema.h"
#include "config/toml_reader.h"
#include "core/workload.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {
namespace {

const std::vector<std::string> kCommonKeys = {"name", "scheduler", "install_path", "output_path",
                                              "hf_home_path", "global_env_vars", "monitor_interval",
                                              // benchpilot extension, accepted on any system
                                              "supports_gpu_directives"};

const std::vector<std::string> kSlurmKeys = {"default_partition",
                                             "partitions",
                                             "account",
                                             "distribution",
                                             "mpi",
                                             "gpus_per_node",
                                             "ntasks_per_node",
                                             "cache_docker_images_locally",
                                             "extra_srun_args",
                                             "extra_sbatch_args",
                                             "extra_transient_status_errors",
                                             "status_retry_pause_seconds",
                                             "container_mount_home",
                                             "data_repository",
                                             "reports"};

// Like Python's Path.absolute(): against the current directory, without "." components.
std::filesystem::path absolute_path(const std::string& written) {
  return std::filesystem::absolute(written).lexically_normal();
}

const std::vector<std::string> kSupportedSchedulers = {"slurm", "standalone"};

std::vector<std::string> concat(const std::vector<std::string>& a,
                                const std::vector<std::string>& b) {
  std::vector<std::string> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// Python's str() of a scalar, which is what CloudAI writes into `export K=V`.
std::string python_str(const Value& v) {
  if (v.is_bool()) return v.as_bool() ? "True" : "False";
  return v.to_plain_string();
}

EnvVars read_env_vars(const TableFields& fields, std::string_view key) {
  EnvVars out;
  const Value* table = fields.optional_table(key);
  if (!table) return out;
  std::string path = fields.key_path(key);
  for (size_t i = 0; i < table->keys().size(); ++i) {
    const std::string& name = table->keys()[i];
    const Value& v = table->items()[i];
    std::string var_path = join_key_path(path, name);
    if (!is_shell_identifier(name))
      throw ConfigError(v.loc(), var_path,
                        "environment variable names must be shell identifiers (letters, digits "
                        "and '_', not starting with a digit), got " +
                            toml_string(name));
    if (v.is_string()) {
      out.emplace_back(name, v.as_string());
    } else if (v.is_number() || v.is_bool()) {
      std::string text = python_str(v);
      log::warn(v.loc().str() + ": " + var_path + ": expected a string, using \"" + text +
                "\" (write it in quotes to silence this warning)");
      out.emplace_back(name, text);
    } else {
      throw ConfigError(
          v.loc(), var_path,
          "expected a string value for an environment variable, got " + std::string(v.type_name()));
    }
  }
  return out;
}

std::vector<Partition> read_partitions(const TableFields& fields) {
  const Value* list = fields.optional_array("partitions");
  if (!list) fields.fail("partitions", "missing required key 'partitions' in slurm system");
  std::vector<Partition> out;
  for (size_t i = 0; i < list->items().size(); ++i) {
    TableFields pf(list->items()[i], index_key_path(fields.key_path("partitions"), i), "partition");
    pf.check_keys({"name", "groups"});
    Partition p;
    p.name = pf.required_safe_name("name");
    if (const Value* groups = pf.optional_array("groups")) {
      for (size_t j = 0; j < groups->items().size(); ++j) {
        TableFields gf(groups->items()[j], index_key_path(pf.key_path("groups"), j), "group");
        gf.check_keys({"name", "nodes"});
        NodeGroup g;
        g.name = gf.required_safe_name("name");
        g.nodes = gf.one_line_string_list("nodes");
        p.groups.push_back(std::move(g));
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

void read_slurm(const TableFields& f, System& s) {
  s.monitor_interval = static_cast<int>(f.int_in_range("monitor_interval", 0, 86400, 60));
  s.default_partition = f.required_string("default_partition");
  if (!is_safe_name(s.default_partition))
    f.fail("default_partition", "expected a partition name of " + std::string(kSafeNameRule) +
                                    ", got " + toml_string(s.default_partition));
  s.partitions = read_partitions(f);
  bool known_partition = false;
  for (const auto& p : s.partitions) known_partition |= p.name == s.default_partition;
  if (!known_partition)
    log::warn(f.get("default_partition")->loc().str() +
              ": default_partition: no partition named '" + s.default_partition +
              "' in partitions");
  s.account = f.one_line_string_or("account", "");
  s.distribution = f.one_line_string_or("distribution", "");
  s.mpi = f.one_line_string_or("mpi", "pmix");
  // A node has at least one GPU when the key is written (0 emitted "-gn 0"); 4096 is far above
  // any real node and keeps products of counts small.
  if (f.has("gpus_per_node"))
    s.gpus_per_node = static_cast<int>(f.int_in_range("gpus_per_node", 1, 4096, 0));
  if (f.has("ntasks_per_node"))
    s.ntasks_per_node = static_cast<int>(f.int_in_range("ntasks_per_node", 1, 65536, 0));
  s.cache_docker_images_locally = f.bool_or("cache_docker_images_locally", false);
  s.extra_srun_args = f.srun_args_or_empty("extra_srun_args");
  s.extra_sbatch_args = f.one_line_string_list("extra_sbatch_args");
  s.extra_transient_status_errors = f.string_list("extra_transient_status_errors");
  for (size_t i = 0; i < s.extra_transient_status_errors.size(); ++i)
    if (trim(s.extra_transient_status_errors[i]).empty())
      throw ConfigError(f.get("extra_transient_status_errors")->items()[i].loc(),
                        index_key_path(f.key_path("extra_transient_status_errors"), i),
                        "expected a non-blank error pattern");
  s.status_retry_pause_seconds =
      static_cast<int>(f.int_in_range("status_retry_pause_seconds", 0, 3600, 10));
  s.container_mount_home = f.bool_or("container_mount_home", false);
  if (const Value* repo = f.optional_table("data_repository")) {
    TableFields rf(*repo, f.key_path("data_repository"), "data_repository");
    rf.check_keys({"endpoint", "verify_certs"});
    rf.required_string("endpoint");
    rf.optional_bool("verify_certs");
    s.data_repository = *repo;
  }
  if (const Value* reports = f.optional_table("reports")) {
    for (size_t i = 0; i < reports->keys().size(); ++i) {
      TableFields rf(reports->items()[i], join_key_path(f.key_path("reports"), reports->keys()[i]),
                     "report settings");
      rf.optional_bool("enable");
    }
    s.reports = *reports;
  }
}

}  // namespace

System parse_system_table(const Value& table) {
  TableFields f(table, "", "system");
  const Value* scheduler = f.get("scheduler");
  if (!scheduler)
    f.fail("scheduler", "missing 'scheduler' key (expected \"slurm\" or \"standalone\")");
  System s;
  s.loc = table.loc();
  s.scheduler = expect_string(*scheduler, "scheduler");
  if (s.scheduler != "slurm" && s.scheduler != "standalone")
    f.fail("scheduler", "unsupported scheduler \"" + s.scheduler +
                            "\" (supported: " + join(kSupportedSchedulers, ", ") + ")");

  // Keys the workloads declare (Workload::system_keys) are accepted on any system.
  std::vector<std::string> workload_keys;
  for (const std::string& n : workload_names())
    for (const std::string& key : find_workload(n)->system_keys()) workload_keys.push_back(key);
  f.check_keys(concat(s.scheduler == "slurm" ? concat(kCommonKeys, kSlurmKeys) : kCommonKeys,
                      workload_keys));

  s.name = f.required_string("name");
  // std::filesystem::absolute("") throws (found by fuzz_config_system): an empty path is a
  // config error here, at its line.
  auto path_at = [&f](std::string_view key) {
    f.required_string(key);
    std::string written = f.one_line_string_or(key, "");
    if (trim(written).empty()) f.fail(key, "expected a non-empty path");
    return absolute_path(written);
  };
  s.install_path = path_at("install_path");
  s.output_path = path_at("output_path");
  if (f.has("hf_home_path"))
    s.hf_home_path = path_at("hf_home_path");
  else
    s.hf_home_path = s.install_path / "huggingface";
  s.global_env_vars = read_env_vars(f, "global_env_vars");
  for (const std::string& key : workload_keys)
    if (f.has(key)) s.workload_settings[key] = f.one_line_string_or(key, "");
  s.supports_gpu_directives = f.optional_bool("supports_gpu_directives");

  if (s.scheduler == "slurm") {
    read_slurm(f, s);
  } else {
    s.monitor_interval = static_cast<int>(f.int_in_range("monitor_interval", 0, 86400, 1));
  }
  return s;
}

System load_system(const std::filesystem::path& file) {
  return parse_system_table(read_toml_file(file));
}

}  // namespace bp
