// Self-submitting workloads (a launcher that calls sbatch itself): the wrapper process that
// runs it, and the job ids it prints on submit.stdout, each new one a next attempt.
#include "systems/slurm/growing_file.h"
#include "systems/slurm/slurm_executor.h"
#include "util/files.h"
#include "util/log.h"

namespace bp {

Job SlurmExecutor::submit_wrapper(const JobRequest& req, Job job, SlurmJobWatch& t) {
  BackgroundOptions opts;
  opts.cwd = req.run_dir;
  opts.stdout_path = req.run_dir / "submit.stdout";
  opts.stderr_path = req.run_dir / "submit.stderr";
  opts.env.assign(req.spec.process_env.begin(), req.spec.process_env.end());
  t.submit_line = req.spec.command;
  try {
    t.wrapper.pid = start_background({"/bin/bash", "-c", req.spec.command}, opts);
  } catch (const std::exception& e) {
    job.state = JobState::kFailed;
    job.reason = e.what();
    return job;
  }
  log::info("started the submission wrapper of " + req.name + " (pid " +
            std::to_string(t.wrapper.pid) + ")");
  job.state = JobState::kPending;  // no id until the wrapper prints it
  return job;
}

std::vector<std::string> SlurmExecutor::scan_wrapper_output(SlurmJobWatch& t, LastLine last) {
  return find_submitted_job_ids(
      read_new_lines(t.run_dir / "submit.stdout", t.wrapper.submit_stdout, last));
}

bool SlurmExecutor::take_new_job_ids(Job& job, SlurmJobWatch& t, LastLine last) {
  bool next_attempt = false;
  for (const std::string& id : scan_wrapper_output(t, last)) {
    if (!t.wrapper.seen_ids.insert(id).second) continue;
    finished_.watch(id);
    if (job.id.empty()) {
      job.id = id;
      log::info(t.name + " submitted Slurm job " + job.id);
    } else {
      start_next_attempt(job, t, id);
      next_attempt = true;
    }
  }
  return next_attempt;
}

void SlurmExecutor::start_next_attempt(Job& job, SlurmJobWatch& t, const std::string& id) {
  JobAttempt previous{job.id, job.state, job.exit_code, job.signal};
  if (t.slurm_done) {
    previous = attempt_of(t.final_status);
    previous.id = job.id;
  } else {
    t.unresolved_ids.push_back(job.id);  // it ended before the retry; the next query says how
  }
  job.earlier_attempts.push_back(previous);
  log::info(t.name + ": the launcher submitted attempt " +
            std::to_string(job.earlier_attempts.size() + 1) + " as Slurm job " + id + " (job " +
            job.id + " ended " + std::string(to_string(previous.state)) + ")");
  job.id = id;
  job.state = JobState::kPending;
  job.reason.clear();
  job.exit_code.reset();
  job.signal = 0;
  t.slurm_done = false;
  t.final_status = {};
  t.missing_since.reset();
  t.awaiting_accounting_since.reset();
  t.failed_rounds = 0;
}

void SlurmExecutor::check_wrapper(Job& job, SlurmJobWatch& t) {
  if (t.wrapper.running()) t.wrapper.status = try_wait_group(t.wrapper.pid);
  take_new_job_ids(job, t, last_line_once(t.wrapper.status.has_value()));
  if (!job.id.empty()) return;
  if (t.wrapper.status) {
    job.state = JobState::kFailed;
    job.reason = "the submission wrapper ended (" + t.wrapper.status->describe() +
                 ") without printing a job id";
    // The cause (e.g. sbatch's "Socket timed out") comes first, the launcher's traceback last.
    std::string excerpt = file_excerpt(t.run_dir / "submit.stderr", 5, 10);
    if (!excerpt.empty()) job.reason += ": " + excerpt;
    t.concluded = true;
    log::error(t.name + ": " + job.reason);
  }
}

void SlurmExecutor::stop_wrapper(SlurmJobWatch& t) {
  if (t.wrapper.running()) t.wrapper.status = terminate_group(t.wrapper.pid, options_.cancel_grace);
}

}  // namespace bp
