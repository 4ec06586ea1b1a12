// The standalone row of the scheduler registry: jobs are local processes, no scheduler.
#include "config/schema.h"
#include "core/scheduler.h"
#include "systems/standalone/standalone_executor.h"

namespace bp {
namespace {

class StandaloneScheduler : public Scheduler {
 public:
  std::string_view name() const override { return "standalone"; }

  // Only the common keys: a local machine has no partitions, accounts or GPU directives.
  std::vector<std::string> system_keys() const override { return {}; }

  void read_system(const TableFields& f, System& s) const override {
    s.monitor_interval = static_cast<int>(f.int_in_range("monitor_interval", 0, 86400, 1));
  }

  // There is no sbatch for a launcher to call.
  bool runs_self_submitting() const override { return false; }

  std::unique_ptr<Executor> make_executor(const System& system) const override {
    return std::make_unique<StandaloneExecutor>(system);
  }

  // Names as written: there is no inventory to look them up in.
  std::vector<std::string> resolve_nodes(const System&,
                                         const std::vector<std::string>& specs) const override {
    return specs;
  }

  NodeCapacity listed_nodes(const System&) const override { return {}; }

  // The local machine is the compute node.
  std::string on_compute_node(const System&, const std::string&,
                              const std::string& command) const override {
    return command;
  }

  // Nothing to ask.
  void probe(System&) const override {}

  std::string_view job_record_file() const override { return kStandaloneJobFile; }

  std::optional<JobRecord> read_job_record(const std::filesystem::path& run_dir) const override {
    return read_standalone_job_record(run_dir);
  }

  // No queue to ask: a job is a local process the executor waits for.
  std::vector<std::string> live_job_states() const override { return {}; }
};

}  // namespace

const Scheduler& standalone_scheduler() {
  static const StandaloneScheduler kStandalone{};
  return kStandalone;
}

}  // namespace bp
