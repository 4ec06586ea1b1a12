// Parsers for what Slurm's commands print. Pure functions over text, so they are tested with
// captured output and reused by the benchmark.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "systems/slurm/slurm_state.h"

namespace bp {

// `sbatch --parsable` prints "ID" or "ID;cluster". Returns the id, or nullopt when the first
// line is not that.
std::optional<std::string> parse_parsable_job_id(std::string_view out);

// The job id in text a submitter printed: "Submitted batch job N" (sbatch and the
// Megatron-Bridge wrapper), else NeMo-Launcher's "submitted with Job ID N".
std::optional<std::string> find_submitted_job_id(std::string_view text);

// Every "Submitted batch job N" line's id in a wrapper's output, in order (a launcher that
// retries submits several jobs; the wrapper prints each once).
std::vector<std::string> find_submitted_job_ids(std::string_view text);

// Any of the above: --parsable output or a "Submitted ..." line.
std::optional<std::string> parse_sbatch_job_id(std::string_view out);

// The squeue format benchpilot asks for, and its lines "ID|STATE|REASON" (reason may hold '|').
inline constexpr std::string_view kSqueueFormat = "%i|%T|%r";
std::vector<SlurmJobStatus> parse_squeue_output(std::string_view out);

// Space-separated Key=Value pairs, as `scontrol show job` (one line with -o, or several) and
// the job-completion log (jobcomp/filetxt) print them. A word without '=' continues the
// previous value ("Reason=ReqNodeNotAvail, UnavailableNodes" keeps its space).
std::map<std::string, std::string> parse_key_values(std::string_view text);

// A job's status from `scontrol show job` output or a jobcomp line (JobId, JobState, ExitCode,
// Reason). nullopt when there is no JobId.
std::optional<SlurmJobStatus> status_from_key_values(const std::map<std::string, std::string>& kv);

// The sacct fields benchpilot asks for (`sacct -j IDS --format=<kSacctFields> -P -n`): one
// call gives finished jobs' states and their slurm-job.toml data, steps included.
inline constexpr std::string_view kSacctFields =
    "JobID,JobName,State,ExitCode,Reason,Start,End,ElapsedRAW,NodeList,SubmitLine";
struct SacctRow {
  std::string job_id;  // "12"
  std::string step;    // "" for the job itself, "batch", "extern", "0", ...
  std::string name;
  std::string state;
  std::string exit_code;  // "code:signal"
  std::string reason;
  std::string start;
  std::string end;
  long long elapsed_sec = 0;
  std::string node_list;
  std::string submit_line;  // last field: may itself contain '|'
};
std::vector<SacctRow> parse_sacct_rows(std::string_view out);

// The status of each job row (steps skipped), in order.
std::vector<SlurmJobStatus> job_statuses(const std::vector<SacctRow>& rows);

// Seconds in a Slurm duration: "D-HH:MM:SS", "HH:MM:SS", "MM:SS" or "SS". nullopt for
// anything else ("UNLIMITED", "Unknown", "").
std::optional<long long> parse_slurm_duration(std::string_view text);

// "key = value" lines of `scontrol show config`; the value for `key`, or nullopt.
std::optional<std::string> config_value(std::string_view scontrol_config, std::string_view key);

}  // namespace bp
