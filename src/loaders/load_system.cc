#include "loaders/load_system.h"

#include "config/schema.h"
#include "config/toml_reader.h"
#include "core/scheduler.h"
#include "core/workload.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {
namespace {

const std::vector<std::string> kCommonKeys = {"name", "scheduler", "install_path", "output_path",
                                              "hf_home_path", "global_env_vars", "monitor_interval",
                                              // benchpilot extensions, accepted on any system
                                              "supports_gpu_directives", "gpu_memory_gib"};

// Like Python's Path.absolute(): against the current directory, without "." components.
std::filesystem::path absolute_path(const std::string& written) {
  return std::filesystem::absolute(written).lexically_normal();
}

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

}  // namespace

System parse_system_table(const Value& table) {
  TableFields f(table, "", "system");
  const Value* scheduler = f.get("scheduler");
  std::vector<std::string> names = scheduler_names();
  if (!scheduler)
    f.fail("scheduler", "missing 'scheduler' key (expected \"" + join(names, "\" or \"") + "\")");
  System s;
  s.loc = table.loc();
  s.scheduler = expect_string(*scheduler, "scheduler");
  const Scheduler* row = find_scheduler(s.scheduler);
  if (!row)
    f.fail("scheduler",
           "unsupported scheduler \"" + s.scheduler + "\" (supported: " + join(names, ", ") + ")");

  // Keys the workloads declare (Workload::system_keys) are accepted on any system.
  std::vector<std::string> workload_keys;
  for (const std::string& n : workload_names())
    for (const std::string& key : find_workload(n)->info().system_keys)
      workload_keys.push_back(key);
  f.check_keys(concat(concat(kCommonKeys, row->system_keys()), workload_keys));

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
  s.gpu_memory_gib = f.optional_number("gpu_memory_gib");
  if (s.gpu_memory_gib && !(*s.gpu_memory_gib > 0 && *s.gpu_memory_gib < 1e6))
    f.fail("gpu_memory_gib",
           "expected the usable memory of one GPU in GiB (a number above 0, "
           "e.g. 79.6 for an 80 GB H100), got " +
               f.get("gpu_memory_gib")->to_plain_string());

  row->read_system(f, s);
  return s;
}

System load_system(const std::filesystem::path& file) {
  return parse_system_table(read_toml_file(file));
}

}  // namespace bp
