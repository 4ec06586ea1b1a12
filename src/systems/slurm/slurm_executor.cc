#include "systems/slurm/slurm_executor.h"

#include <algorithm>

#include "systems/slurm/cluster_probe.h"
#include "systems/slurm/growing_file.h"
#include "systems/slurm/job_metadata.h"
#include "systems/slurm/sbatch_script.h"
#include "systems/slurm/slurm_output.h"
#include "systems/slurm/slurm_system.h"
#include "util/backoff.h"
#include "util/files.h"
#include "util/folder_lock.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

namespace fs = std::filesystem;

namespace {

RetryPolicy retry_policy(const System& system, const SlurmExecutorOptions& o) {
  RetryPolicy p;
  p.first_pause = o.retry_pause.value_or(
      std::chrono::seconds(std::max(slurm_settings(system).status_retry_pause_seconds, 0)));
  p.max_pause = o.max_retry_pause;
  p.max_attempts = std::max(o.retry_attempts, 1);
  for (const std::string& e : slurm_settings(system).extra_transient_status_errors)
    if (!trim(e).empty()) p.transient_patterns.push_back(e);
  return p;
}

// scontrol_config() is empty when `scontrol show config` failed: then the config is unknown.
std::optional<std::string_view> known_config(const std::string& config) {
  if (config.empty()) return std::nullopt;
  return config;
}

}  // namespace

SlurmExecutor::SlurmExecutor(const System& system, SlurmExecutorOptions options,
                             std::shared_ptr<CommandRunner> runner)
    : system_(system),
      options_(options),
      runner_(runner ? std::move(runner) : std::make_shared<SystemCommandRunner>()),
      retry_policy_(retry_policy(system, options)),
      commands_(*runner_, retry_policy_),
      finished_(
          commands_, [this] { return command_options(); },
          [this]() -> const std::string& { return scontrol_config(); }) {}

SlurmExecutor::~SlurmExecutor() {
  if (detached_) return;  // SIGHUP: wrappers keep relaying; a resume picks them up
  for (auto& [handle, t] : watches_) {
    if (t.wrapper.running()) {
      log::warn("stopping the submission wrapper of " + t.name + " (pid " +
                std::to_string(t.wrapper.pid) + ")");
      stop_wrapper(t);
    }
  }
}

CommandOptions SlurmExecutor::command_options(const fs::path& cwd, const EnvVars& env) const {
  CommandOptions o;
  o.timeout = options_.command_timeout;
  o.cwd = cwd;
  o.env.assign(env.begin(), env.end());
  return o;
}

const std::string& SlurmExecutor::scontrol_config() {
  if (!scontrol_config_) {
    CommandResult r =
        commands_.call({"scontrol", "show", "config"}, Retry::kYes, command_options());
    scontrol_config_ = r.ok() ? r.out : std::string();
    if (!r.ok()) log::warn("scontrol show config failed: " + error_text(r));
  }
  return *scontrol_config_;
}

bool SlurmExecutor::gpu_directives_usable() {
  // `run` probes through Scheduler::probe before anything is submitted, so the system already
  // answers; this fallback serves an executor used without it (tests, tools).
  if (!gpu_directives_)
    gpu_directives_ = system_.supports_gpu_directives
                          ? *system_.supports_gpu_directives
                          : gpu_directives_in_config(known_config(scontrol_config()));
  return *gpu_directives_;
}

Job SlurmExecutor::submit(const JobRequest& req) {
  Job job;
  job.handle = next_handle_++;
  job.run_dir = req.run_dir;
  SlurmJobWatch& t = watches_[job.handle];
  t.name = req.name;
  t.run_dir = req.run_dir;
  t.self_submitting = req.spec.self_submitting;
  t.command = req.spec.command;
  job = t.self_submitting ? submit_wrapper(req, job, t) : submit_batch(req, job, t);
  if (is_terminal(job.state)) t.concluded = true;
  if (!job.id.empty()) finished_.watch(job.id);
  return job;
}

Job SlurmExecutor::submit_batch(const JobRequest& req, Job job, SlurmJobWatch& t) {
  bool gpus = system_.gpus_per_node && gpu_directives_usable();
  fs::path script = req.run_dir / "sbatch.sh";
  try {
    write_file_atomic(script, make_sbatch_script(system_, req, gpus));
  } catch (const std::exception& e) {
    job.state = JobState::kFailed;
    job.reason = e.what();
    return job;
  }
  std::vector<std::string> argv = {"sbatch", "--parsable", script.string()};
  if (!req.comment.empty()) argv.insert(argv.begin() + 2, "--comment=" + req.comment);
  t.submit_line = join(argv, " ");
  // A transient failure is retried with backoff, but a timed-out sbatch may still have queued
  // the job: before each retry, Slurm is asked for a job carrying our comment.
  std::optional<std::string> id;
  CommandResult r;
  std::string first_error;
  for (int attempt = 0;; ++attempt) {
    r = commands_.call(argv, Retry::kNo, command_options(req.run_dir, req.spec.process_env));
    id = r.ok() ? parse_sbatch_job_id(r.out) : std::nullopt;
    if (id || !commands_.is_transient(r) || attempt + 1 >= retry_policy_.max_attempts) break;
    if (first_error.empty()) first_error = first_line(error_text(r));
    auto pause = backoff_delay(attempt, retry_policy_.first_pause, retry_policy_.max_pause);
    log::warn(req.name + ": sbatch failed transiently (" + first_line(error_text(r)) +
              "); retrying in " + std::to_string(pause.count()) + " ms");
    runner_->sleep(pause);
    if (!req.comment.empty()) {
      if ((id = queued_job_with_comment(req.comment))) {
        log::info(req.name + ": the failed sbatch had queued job " + *id + " after all");
        break;
      }
    }
  }
  if (!id) {
    job.state = JobState::kFailed;
    job.reason =
        "sbatch failed: " + (r.ok() ? "no job id in \"" + first_line(r.out) + "\"" : error_text(r));
    if (!first_error.empty() && job.reason.find(first_error) == std::string::npos)
      job.reason += " (first error: " + first_error + ")";
    if (!first_error.empty())
      job.reason += " after " + std::to_string(retry_policy_.max_attempts) + " attempts";
    log::error(req.name + ": " + job.reason);
    return job;
  }
  job.id = *id;
  job.state = JobState::kPending;
  log::info("submitted " + req.name + " as Slurm job " + job.id);
  return job;
}

void SlurmExecutor::poll(std::vector<Job*>& active) {
  commands_.begin_round();
  std::vector<Job*> query;
  std::vector<std::pair<Job*, std::string>> earlier;
  for (Job* job : active) {
    auto it = watches_.find(job->handle);
    if (it == watches_.end() || it->second.concluded) continue;
    SlurmJobWatch& t = it->second;
    if (t.self_submitting) {
      check_wrapper(*job, t);
      if (t.concluded || job->id.empty()) continue;
    } else if (t.wrapper.follow_output) {
      take_new_job_ids(*job, t, LastLine::kWaitForNewline);
    }
    for (const std::string& id : t.unresolved_ids) earlier.emplace_back(job, id);
    if (t.slurm_done)
      conclude_if_ended(*job, t);
    else
      query.push_back(job);
  }
  if (!query.empty() || !earlier.empty()) query_slurm(query, earlier);
  commands_.end_round();
}

void SlurmExecutor::resolve_earlier(const std::vector<std::pair<Job*, std::string>>& earlier,
                                    const std::map<std::string, SlurmJobStatus>& in_queue,
                                    const std::map<std::string, SlurmJobStatus>& records) {
  for (const auto& [job, id] : earlier) {
    const SlurmJobStatus* status = nullptr;
    if (auto r = records.find(id); r != records.end() && is_terminal(r->second.state))
      status = &r->second;
    else if (auto q = in_queue.find(id); q != in_queue.end() && is_terminal(q->second.state))
      status = &q->second;
    if (!status) continue;  // asked again next round
    for (JobAttempt& a : job->earlier_attempts)
      if (a.id == id) a = attempt_of(*status);
    std::vector<std::string>& pending = watches_.at(job->handle).unresolved_ids;
    pending.erase(std::remove(pending.begin(), pending.end(), id), pending.end());
  }
}

void SlurmExecutor::query_slurm(const std::vector<Job*>& jobs,
                                const std::vector<std::pair<Job*, std::string>>& earlier) {
  std::vector<std::string> ids;
  for (Job* j : jobs) ids.push_back(j->id);
  for (const auto& e : earlier) ids.push_back(e.second);
  const std::string id_list = join(ids, ",");
  CommandResult r = commands_.call(
      {"squeue", "-h", "-j", id_list, "--states=all", "-o", std::string(kSqueueFormat)},
      Retry::kYes, command_options());
  // With a single id Slurm no longer knows, squeue fails with "Invalid job id specified"; with
  // several it prints nothing for the unknown ones. Both mean "look elsewhere".
  const bool all_unknown = !r.ok() && contains(r.err, "Invalid job id");
  if (!r.ok() && !all_unknown) {
    count_failed_query(jobs, r);
    return;
  }
  unreachable_since_.reset();
  std::map<std::string, SlurmJobStatus> in_queue;
  if (!all_unknown)
    for (SlurmJobStatus& s : parse_squeue_output(r.out)) in_queue[s.id] = std::move(s);

  // Finished or vanished jobs: ask accounting (or the completion log) once for all of them.
  std::vector<std::string> need_records;
  for (const std::string& id : ids) {
    auto q = in_queue.find(id);
    if (q == in_queue.end() || is_terminal(q->second.state)) need_records.push_back(id);
  }
  std::map<std::string, SlurmJobStatus> records;
  if (!need_records.empty()) records = finished_.records(need_records);
  resolve_earlier(earlier, in_queue, records);

  const auto now = runner_->now();
  for (Job* job : jobs) {
    auto q = in_queue.find(job->id);
    auto rec = records.find(job->id);
    reconcile(*job, watches_.at(job->handle), q == in_queue.end() ? nullptr : &q->second,
              rec == records.end() ? nullptr : &rec->second, now);
  }
}

void SlurmExecutor::count_failed_query(const std::vector<Job*>& jobs, const CommandResult& r) {
  const std::string why = "squeue: " + error_text(r);
  log::warn(why);
  const auto now = runner_->now();
  if (!unreachable_since_) unreachable_since_ = now;
  const bool transient = commands_.is_transient(r);
  for (Job* job : jobs) {
    SlurmJobWatch& t = watches_.at(job->handle);
    if (++t.failed_rounds < options_.max_failed_rounds) continue;
    if (!transient) {
      give_up(*job, t, "cannot get the job state from Slurm (" + why + ")");
    } else if (lost_scheduler_.empty()) {
      // The controller is down or unreachable, not the job gone: the jobs are left to run
      // and the run stops resumable instead of calling them UNKNOWN.
      const auto secs =
          std::chrono::duration_cast<std::chrono::seconds>(now - *unreachable_since_).count();
      lost_scheduler_ = "Slurm did not answer for " + std::to_string(t.failed_rounds) +
                        " monitoring rounds (" + std::to_string(secs) + " s, each call tried " +
                        std::to_string(retry_policy_.max_attempts) + " times): " + why;
    }
  }
}

void SlurmExecutor::reconcile(Job& job, SlurmJobWatch& t, const SlurmJobStatus* queued,
                              const SlurmJobStatus* record,
                              std::chrono::steady_clock::time_point now) {
  t.failed_rounds = 0;
  const bool has_record = record && is_terminal(record->state);
  if (queued) {
    t.missing_since.reset();
    bool known = true;
    job_state_from_slurm(queued->state_text, &known);
    if (!known && warned_states_.insert(queued->state_text).second)
      log::warn("Slurm reports state '" + queued->state_text +
                "', which benchpilot does not know; treating it as running");
    if (!is_terminal(queued->state)) {
      job.state = queued->state;
      return;
    }
    if (has_record) {
      t.final_status = *record;
    } else {
      // Accounting usually records the job a fraction of a second after squeue shows it
      // finished; wait a little for its exit code and "CANCELLED by N".
      const bool record_expected = finished_.records_expected();
      if (record_expected) {
        if (!t.awaiting_accounting_since) t.awaiting_accounting_since = now;
        if (now - *t.awaiting_accounting_since < options_.accounting_lag) {
          job.state = JobState::kCompleting;
          return;
        }
      }
      t.final_status = *queued;
    }
  } else if (has_record) {
    t.final_status = *record;
  } else {
    if (record) {  // accounting knows it, still running (squeue lagging)
      job.state = record->state;
      return;
    }
    if (!t.missing_since) t.missing_since = now;
    if (now - *t.missing_since >= options_.unknown_grace)
      give_up(job, t,
              "Slurm no longer knows job " + job.id +
                  " (not in squeue, accounting or the job-completion log)");
    return;
  }
  t.slurm_done = true;
  t.slurm_done_at = now;
  conclude_if_ended(job, t);
}

void SlurmExecutor::give_up(Job& job, SlurmJobWatch& t, const std::string& why) {
  job.state = JobState::kUnknown;
  job.reason = why;
  t.concluded = true;
  log::error(t.name + ": " + why);
  stop_wrapper(t);
}

void SlurmExecutor::conclude_if_ended(Job& job, SlurmJobWatch& t) {
  const bool orphan_alive =
      t.wrapper.orphan_pid > 0 && process_alive(t.wrapper.orphan_pid, t.wrapper.orphan_start);
  // The earlier session's launcher may retry: its wrapper then reports the next attempt's job.
  if (t.wrapper.follow_output && take_new_job_ids(job, t, last_line_once(!orphan_alive))) return;
  if (orphan_alive && runner_->now() - t.slurm_done_at < options_.wrapper_grace) {
    job.state = JobState::kCompleting;  // an earlier session's wrapper still relays the log
    return;
  }
  if (t.self_submitting && t.wrapper.running()) {
    t.wrapper.status = try_wait_group(t.wrapper.pid);
    // The launcher may retry: the wrapper then reports the next attempt's job.
    if (take_new_job_ids(job, t, last_line_once(t.wrapper.status.has_value()))) return;
    if (!t.wrapper.status) {
      if (runner_->now() - t.slurm_done_at < options_.wrapper_grace) {
        job.state = JobState::kCompleting;  // the wrapper is still relaying the log
        return;
      }
      log::warn(t.name + ": the submission wrapper is still running after Slurm job " + job.id +
                " ended; stopping it");
      stop_wrapper(t);
      // submitted just before it was stopped
      if (take_new_job_ids(job, t, LastLine::kTakeAsIs)) return;
    }
  }
  // An earlier attempt whose end accounting has not recorded yet is asked again next round.
  if (!t.unresolved_ids.empty() && runner_->now() - t.slurm_done_at < options_.unknown_grace) {
    job.state = JobState::kCompleting;
    return;
  }
  // Runs of this job that Slurm requeued (node failure) count as earlier attempts.
  for (const JobAttempt& a : finished_.take_requeued_runs(job.id)) {
    log::warn(t.name + ": Slurm requeued job " + job.id + " after it ended " +
              std::string(to_string(a.state)) + "; the later run is the verdict's");
    job.earlier_attempts.push_back(a);
  }
  JobAttempt outcome = attempt_of(t.final_status);
  job.state = t.final_status.state;
  job.reason = describe_outcome(t.final_status);
  job.exit_code = outcome.exit_code;
  job.signal = outcome.signal;
  t.concluded = true;
}

void SlurmExecutor::cancel(Job& job) {
  auto it = watches_.find(job.handle);
  if (it == watches_.end() || it->second.concluded) return;
  SlurmJobWatch& t = it->second;
  if (t.self_submitting) {
    stop_wrapper(t);
    // The wrapper may have printed ids we had not read yet: read its output once more.
    take_new_job_ids(job, t, LastLine::kTakeAsIs);
  }
  // Earlier attempts ended before the launcher retried: one lookup says how, for the summary.
  if (!t.unresolved_ids.empty()) {
    std::vector<std::pair<Job*, std::string>> earlier;
    for (const std::string& id : t.unresolved_ids) earlier.emplace_back(&job, id);
    resolve_earlier(earlier, {}, finished_.records(t.unresolved_ids));
  }
  // Every attempt that may still be queued or running, in one call.
  std::vector<std::string> ids = t.unresolved_ids;
  if (!job.id.empty() && !t.slurm_done) ids.push_back(job.id);
  if (!ids.empty()) {
    std::vector<std::string> argv = {"scancel"};
    argv.insert(argv.end(), ids.begin(), ids.end());
    CommandResult r = commands_.call(argv, Retry::kYes, command_options());
    if (!r.ok()) log::warn("scancel " + join(ids, " ") + ": " + error_text(r));
  }
  job.state = JobState::kCancelled;
  job.reason = "cancelled by benchpilot";
  t.concluded = true;
}

void SlurmExecutor::write_job_metadata(const Job& job) {
  auto it = watches_.find(job.handle);
  if (it == watches_.end() || job.id.empty()) return;
  const SlurmJobWatch& t = it->second;
  JobFacts facts{job.id,     t.name,      std::string(to_string(job.state)),
                 job.reason, job.run_dir, t.submit_line,
                 t.command};
  Value doc;
  std::vector<SacctRow> rows = finished_.rows_for(job.id);
  if (!rows.empty()) {
    // Right after a short job ends slurmdbd may hold only a placeholder record (name
    // "allocation", no submit line) for about a second. Our batch jobs carry the name we gave;
    // a self-submitted job's name is asked from slurmctld.
    SacctRow& head = rows[0];
    if (head.step.empty() && head.name == "allocation" && head.submit_line.empty()) {
      if (!t.self_submitting) {
        head.name = t.name;
      } else {
        CommandResult sc =
            commands_.call({"scontrol", "show", "job", job.id}, Retry::kYes, command_options());
        auto kv = parse_key_values(sc.ok() ? sc.out : std::string());
        if (!kv["JobName"].empty()) head.name = kv["JobName"];
      }
    }
    doc = job_metadata_from_sacct(rows, facts);
  }
  if (doc.is_none()) {
    CommandResult r =
        commands_.call({"scontrol", "show", "job", job.id}, Retry::kYes, command_options());
    if (r.ok()) doc = job_metadata_from_scontrol(parse_key_values(r.out), facts);
  }
  if (doc.is_none()) doc = job_metadata_from_facts(facts);
  add_earlier_attempts(doc, job.earlier_attempts);
  fs::path path = job.run_dir / kSlurmJobFile;
  try {
    write_file_atomic(path, to_toml_document(doc));
  } catch (const FileError& e) {
    log::warn(e.what());
  }
}

int SlurmExecutor::submitter_pid(const Job& job) const {
  auto it = watches_.find(job.handle);
  if (it == watches_.end()) return 0;
  // A re-attached job's wrapper is the earlier session's: the journal keeps naming it.
  return it->second.wrapper.pid > 0 ? static_cast<int>(it->second.wrapper.pid)
                                    : it->second.wrapper.orphan_pid;
}

std::chrono::milliseconds SlurmExecutor::next_poll_interval(int quiet_rounds) const {
  auto cap = std::max<std::chrono::milliseconds>(
      std::chrono::seconds(std::max(system_.monitor_interval, 0)), options_.first_poll_interval);
  return backoff_delay(quiet_rounds, options_.first_poll_interval, cap);
}

}  // namespace bp
