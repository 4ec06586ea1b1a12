#include "systems/slurm/finished_jobs.h"

#include "systems/slurm/cluster_probe.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

namespace {

// sacct's answer when the cluster keeps no accounting (or has no sacct at all).
bool accounting_disabled(const CommandResult& r) {
  return !r.started || contains(r.err, "accounting storage is disabled");
}

}  // namespace

FinishedJobSource::FinishedJobSource(SlurmCommands& commands,
                                     std::function<CommandOptions()> command_options,
                                     std::function<const std::string&()> scontrol_config)
    : commands_(commands),
      command_options_(std::move(command_options)),
      scontrol_config_(std::move(scontrol_config)) {}

std::map<std::string, SlurmJobStatus> FinishedJobSource::records(
    const std::vector<std::string>& ids) {
  std::map<std::string, SlurmJobStatus> out;
  if (accounting_.value_or(true)) {
    // -D: a job Slurm requeued (its node failed or went DOWN) has one record per run, oldest
    // first; the runs before the last one are kept as requeues of the job.
    CommandResult r = commands_.call(
        {"sacct", "-D", "-j", join(ids, ","), "--format=" + std::string(kSacctFields), "-P", "-n"},
        Retry::kYes, command_options_());
    if (r.ok()) {
      if (!accounting_) log::debug("Slurm accounting works: sacct is used for finished jobs");
      accounting_ = true;
      std::vector<SacctRow> rows = keep_last_runs(parse_sacct_rows(r.out));
      for (SlurmJobStatus& s : job_statuses(rows)) {
        if (is_terminal(s.state)) {  // keep the rows for slurm-job.toml: no second sacct call
          std::vector<SacctRow>& kept = sacct_rows_[s.id];
          kept.clear();
          for (const SacctRow& row : rows)
            if (row.job_id == s.id) kept.push_back(row);
        }
        out[s.id] = std::move(s);
      }
      return out;
    }
    if (accounting_disabled(r)) {
      accounting_ = false;
      log::info("Slurm accounting is not available (" + first_line(error_text(r)) +
                "); using squeue and the job-completion log");
    } else {
      log::warn("sacct: " + error_text(r));
      return out;
    }
  }
  read_job_completion_log();
  for (const std::string& id : ids) {
    auto it = jobcomp_records_.find(id);
    if (it != jobcomp_records_.end()) out[id] = it->second;
  }
  return out;
}

std::vector<SacctRow> FinishedJobSource::keep_last_runs(std::vector<SacctRow> rows) {
  std::map<std::string, std::vector<std::vector<SacctRow>>> runs;  // id -> runs: job row, steps
  std::vector<std::string> order;
  for (SacctRow& row : rows) {
    std::vector<std::vector<SacctRow>>& of_job = runs[row.job_id];
    if (of_job.empty()) order.push_back(row.job_id);
    if (row.step.empty() || of_job.empty())
      of_job.push_back({std::move(row)});
    else
      of_job.back().push_back(std::move(row));
  }
  std::vector<SacctRow> last;
  for (const std::string& id : order) {
    std::vector<std::vector<SacctRow>>& of_job = runs[id];
    std::vector<JobAttempt>& earlier = requeued_runs_[id];
    earlier.clear();
    for (size_t i = 0; i + 1 < of_job.size(); ++i)
      for (const SlurmJobStatus& s : job_statuses(of_job[i])) {
        JobAttempt a = attempt_of(s);
        a.id = id;
        earlier.push_back(a);
      }
    for (SacctRow& row : of_job.back()) last.push_back(std::move(row));
  }
  return last;
}

void FinishedJobSource::read_job_completion_log() {
  if (!jobcomp_checked_) {
    jobcomp_checked_ = true;
    jobcomp_path_ = job_completion_log(scontrol_config_());
    if (jobcomp_path_) log::debug("reading finished jobs from " + jobcomp_path_->string());
  }
  if (!jobcomp_path_) return;
  std::string lines = read_new_lines(*jobcomp_path_, jobcomp_file_, LastLine::kWaitForNewline);
  if (lines.empty()) return;  // no complete line yet
  for (const std::string& line : split(lines, '\n')) {
    auto status = status_from_key_values(parse_key_values(line));
    if (status && our_ids_.count(status->id)) jobcomp_records_[status->id] = std::move(*status);
  }
}

std::vector<SacctRow> FinishedJobSource::rows_for(const std::string& id) {
  if (auto kept = sacct_rows_.find(id); kept != sacct_rows_.end()) {
    std::vector<SacctRow> rows = std::move(kept->second);
    sacct_rows_.erase(kept);
    return rows;
  }
  if (!accounting_.value_or(true)) return {};
  CommandResult r =
      commands_.call({"sacct", "-j", id, "--format=" + std::string(kSacctFields), "-P", "-n"},
                     Retry::kYes, command_options_());
  if (r.ok()) {
    accounting_ = true;
    return parse_sacct_rows(r.out);
  }
  if (accounting_disabled(r)) accounting_ = false;
  return {};
}

std::vector<JobAttempt> FinishedJobSource::take_requeued_runs(const std::string& id) {
  auto it = requeued_runs_.find(id);
  if (it == requeued_runs_.end()) return {};
  std::vector<JobAttempt> runs = std::move(it->second);
  requeued_runs_.erase(it);
  return runs;
}

}  // namespace bp
