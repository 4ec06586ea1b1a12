// The MegatronBridge workload: CloudAI's Megatron-Bridge test template. benchpilot runs
// Megatron-Bridge's own launcher (scripts/performance/setup_experiment.py) on the submit node
// through a wrapper script; the launcher submits the training job to Slurm itself.
#pragma once

#include <string>

#include "core/workload.h"
#include "workloads/megatron_bridge/training_report.h"

namespace bp::mbridge {

inline constexpr const char* kNemoRunUrl = "https://github.com/NVIDIA-NeMo/Run.git";
inline constexpr const char* kNemoRunCommit = "main";  // unless the test sets nemo_run_repo

// The system TOML key (a benchpilot extension this workload declares) naming the Python that
// runs the launcher instead of the NeMo-Run venv CloudAI would build from the internet.
inline constexpr const char* kLauncherPythonKey = "launcher_python";

// The interpreter that replaces the NeMo-Run venv: the system's launcher_python, else
// $BENCHPILOT_LAUNCHER_PYTHON (read now); empty when neither is set.
std::string launcher_python_override(const System& system);

// Refuses a flag or choice the installed Megatron-Bridge launcher of this test lacks (read from
// its argument_parser.py); says so and returns when the clone is not installed yet.
void check_pinned_launcher(const TestDefinition& test, const System& system);

// Image (when cmd_args.container_image is set), launcher Python, Megatron-Bridge clone.
std::vector<Installable> mbridge_installables(const TestDefinition& test, const System& system);

class MegatronBridgeWorkload : public Workload {
 public:
  const WorkloadInfo& info() const override;
  void validate(const TestDefinition& test) const override;
  // kBeforeRun: the HF token, the pinned launcher's flags (once installed) and the system's
  // srun arguments; kAfterInstall: the pinned launcher's flags.
  void preflight(const TestDefinition& test, const System& system,
                 PreflightMode mode) const override;
  std::vector<Installable> installables(const TestDefinition& test,
                                        const System& system) const override;
  RunSpec prepare(const RunContext& ctx) const override;
  // One read of the launcher log (launcher_log.h) gives the verdict (the NCCL gate's first),
  // metrics, samples, series, reports and the failure details (the end of the log).
  RunRead read(const std::filesystem::path& run_dir) const override;
  // A launcher log under either name.
  bool recognizes(const std::filesystem::path& run_dir) const override;
};

}  // namespace bp::mbridge

namespace bp {
const Workload& megatron_bridge_workload();
}  // namespace bp
