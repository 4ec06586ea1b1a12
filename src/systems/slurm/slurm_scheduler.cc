// The Slurm row of the scheduler registry: CloudAI's SlurmSystem keys, SlurmExecutor, node
// specs through sinfo, and the `scontrol show config` probe.
#include <set>

#include "config/schema.h"
#include "config/toml_reader.h"
#include "core/scheduler.h"
#include "systems/slurm/cluster_probe.h"
#include "systems/slurm/job_metadata.h"
#include "systems/slurm/node_list.h"
#include "systems/slurm/sbatch_script.h"
#include "systems/slurm/slurm_executor.h"
#include "systems/slurm/slurm_state.h"
#include "systems/slurm/slurm_system.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

const SlurmSettings& slurm_settings(const System& system) {
  static const SlurmSettings kDefaults{};
  auto* s = dynamic_cast<const SlurmSettings*>(system.scheduler_settings.get());
  return s ? *s : kDefaults;
}

SlurmSettings& slurm_settings(System& system) {
  auto copy = std::make_shared<SlurmSettings>(slurm_settings(std::as_const(system)));
  system.scheduler_settings = copy;
  return *copy;
}

namespace {

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

class SlurmScheduler : public Scheduler {
 public:
  std::string_view name() const override { return "slurm"; }

  std::vector<std::string> system_keys() const override {
    return {"default_partition",
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
  }

  void read_system(const TableFields& f, System& s) const override {
    auto settings = std::make_shared<SlurmSettings>();
    s.monitor_interval = static_cast<int>(f.int_in_range("monitor_interval", 0, 86400, 60));
    s.default_partition = f.required_string("default_partition");
    if (!is_safe_name(s.default_partition))
      f.fail("default_partition", "expected a partition name of " + std::string(kSafeNameRule) +
                                      ", got " + toml_string(s.default_partition));
    settings->partitions = read_partitions(f);
    bool known_partition = false;
    for (const auto& p : settings->partitions) known_partition |= p.name == s.default_partition;
    if (!known_partition)
      log::warn(f.get("default_partition")->loc().str() +
                ": default_partition: no partition named '" + s.default_partition +
                "' in partitions");
    s.account = f.one_line_string_or("account", "");
    s.distribution = f.one_line_string_or("distribution", "");
    s.mpi = f.one_line_string_or("mpi", s.mpi);  // System holds the default
    // A node has at least one GPU when the key is written (0 emitted "-gn 0"); 4096 is far
    // above any real node and keeps products of counts small.
    if (f.has("gpus_per_node"))
      s.gpus_per_node = static_cast<int>(f.int_in_range("gpus_per_node", 1, 4096, 0));
    if (f.has("ntasks_per_node"))
      s.ntasks_per_node = static_cast<int>(f.int_in_range("ntasks_per_node", 1, 65536, 0));
    s.cache_docker_images_locally = f.bool_or("cache_docker_images_locally", false);
    s.extra_srun_args = f.srun_args_or_empty("extra_srun_args");
    s.extra_sbatch_args = f.one_line_string_list("extra_sbatch_args");
    settings->extra_transient_status_errors = f.string_list("extra_transient_status_errors");
    for (size_t i = 0; i < settings->extra_transient_status_errors.size(); ++i)
      if (trim(settings->extra_transient_status_errors[i]).empty())
        throw ConfigError(f.get("extra_transient_status_errors")->items()[i].loc(),
                          index_key_path(f.key_path("extra_transient_status_errors"), i),
                          "expected a non-blank error pattern");
    settings->status_retry_pause_seconds =
        static_cast<int>(f.int_in_range("status_retry_pause_seconds", 0, 3600, 10));
    s.container_mount_home = f.bool_or("container_mount_home", false);
    if (const Value* repo = f.optional_table("data_repository")) {
      TableFields rf(*repo, f.key_path("data_repository"), "data_repository");
      rf.check_keys({"endpoint", "verify_certs"});
      rf.required_string("endpoint");
      rf.optional_bool("verify_certs");
      settings->data_repository = *repo;
    }
    if (const Value* reports = f.optional_table("reports")) {
      for (size_t i = 0; i < reports->keys().size(); ++i) {
        TableFields rf(reports->items()[i],
                       join_key_path(f.key_path("reports"), reports->keys()[i]), "report settings");
        rf.optional_bool("enable");
      }
      settings->reports = *reports;
    }
    s.scheduler_settings = std::move(settings);
  }

  bool runs_self_submitting() const override { return true; }

  std::unique_ptr<Executor> make_executor(const System& system) const override {
    return std::make_unique<SlurmExecutor>(system);
  }

  std::vector<std::string> resolve_nodes(const System& system,
                                         const std::vector<std::string>& specs) const override {
    return bp::resolve_nodes(system, specs);
  }

  // The default partition's nodes as its groups list them.
  NodeCapacity listed_nodes(const System& system) const override {
    for (const Partition& p : slurm_settings(system).partitions) {
      if (p.name != system.default_partition) continue;
      std::set<std::string> nodes;
      try {
        for (const NodeGroup& g : p.groups)
          for (const std::string& spec : g.nodes)
            for (std::string& n : expand_node_list(spec)) nodes.insert(std::move(n));
      } catch (const ValueError& e) {
        throw ConfigError(system.loc, "partitions", e.what());
      }
      return {nodes.size(), "partition '" + system.default_partition + "'"};
    }
    return {};
  }

  std::string on_compute_node(const System& system, const std::string& job_name,
                              const std::string& command) const override {
    std::string cmd = "srun --export=ALL --partition=" + shell_quote(system.default_partition);
    if (!system.account.empty()) cmd += " --account=" + shell_quote(system.account);
    return cmd + " -N1 --ntasks=1 --job-name=" + shell_quote(job_name) + " " + command;
  }

  void probe(System& system) const override {
    if (!system.supports_gpu_directives)
      system.supports_gpu_directives = probe_gpu_directives(system);
  }

  std::string batch_header(const System& system, const JobRequest& req,
                           const BatchHeaderExtras& extras) const override {
    return make_sbatch_header(system, req, extras);
  }

  std::string launch_line(const System& system, const JobRequest& req,
                          const PerNodeLaunch* per_node) const override {
    return make_srun_line(system, req, per_node);
  }

  std::string_view job_record_file() const override { return kSlurmJobFile; }

  std::optional<JobRecord> read_job_record(const std::filesystem::path& run_dir) const override {
    return read_slurm_job_record(run_dir);
  }

  std::vector<std::string> live_job_states() const override { return live_slurm_state_names(); }
};

}  // namespace

const Scheduler& slurm_scheduler() {
  static const SlurmScheduler kSlurm{};
  return kSlurm;
}

}  // namespace bp
