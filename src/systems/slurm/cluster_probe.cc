#include "systems/slurm/cluster_probe.h"

#include "systems/slurm/command_runner.h"
#include "systems/slurm/slurm_output.h"
#include "util/strings.h"

namespace bp {

bool gpu_directives_in_config(std::optional<std::string_view> config) {
  if (!config) return true;
  for (const std::string& line : split(*config, '\n'))
    if (contains(line, "GresTypes") && contains(line, "gpu")) return true;
  return false;
}

bool gpu_directives_from_config(const CommandResult& r) {
  if (!r.ok() || !trim(r.err).empty()) return gpu_directives_in_config(std::nullopt);
  return gpu_directives_in_config(r.out);
}

bool probe_gpu_directives(const System& system) {
  SystemCommandRunner runner;
  return probe_gpu_directives(system, runner);
}

bool probe_gpu_directives(const System& system, CommandRunner& runner) {
  if (system.supports_gpu_directives) return *system.supports_gpu_directives;
  return gpu_directives_from_config(runner.run({"scontrol", "show", "config"}, {}));
}

std::optional<std::filesystem::path> job_completion_log(std::string_view scontrol_config) {
  auto type = config_value(scontrol_config, "JobCompType");
  auto loc = config_value(scontrol_config, "JobCompLoc");
  if (!type || *type != "jobcomp/filetxt" || !loc || loc->empty() || *loc == "(null)")
    return std::nullopt;
  return std::filesystem::path(*loc);
}

}  // namespace bp
