// What Slurm's commands print: squeue, sacct, scontrol (key=value), sbatch, durations.
#include "fuzz_common.h"
#include "systems/slurm/slurm_output.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view t = bp::fuzz::text(data, size);
  bp::parse_squeue_output(t);
  bp::job_statuses(bp::parse_sacct_rows(t));
  bp::status_from_key_values(bp::parse_key_values(t));
  bp::parse_parsable_job_id(t);
  bp::parse_sbatch_job_id(t);
  bp::find_submitted_job_id(t);
  bp::parse_slurm_duration(t);
  bp::config_value(t, "SelectType");
  return 0;
}
