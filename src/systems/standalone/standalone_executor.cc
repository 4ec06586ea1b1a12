#include "systems/standalone/standalone_executor.h"

#include <ctime>
#include <fstream>

#include "config/value.h"
#include "util/backoff.h"
#include "util/files.h"
#include "util/log.h"
#include "util/time_format.h"

namespace bp {

namespace {

std::string iso_local(std::chrono::system_clock::time_point t) {
  return format_time(std::chrono::system_clock::to_time_t(t), "%Y-%m-%dT%H:%M:%S");
}

constexpr std::chrono::milliseconds kCancelGrace{2000};

}  // namespace

StandaloneExecutor::StandaloneExecutor(const System& system)
    : max_interval_(std::chrono::seconds(std::max(system.monitor_interval, 0))) {}

StandaloneExecutor::~StandaloneExecutor() {
  for (auto& [handle, p] : processes_) {
    if (p.status) continue;
    log::warn("stopping job " + p.name + " (pid " + std::to_string(p.pid) + ") left running");
    terminate_group(p.pid, kCancelGrace);
  }
}

Job StandaloneExecutor::submit(const JobRequest& req) {
  Job job;
  job.handle = next_handle_++;
  job.run_dir = req.run_dir;
  Process p;
  p.name = req.name;
  p.command = req.spec.command;
  p.started = std::chrono::system_clock::now();
  BackgroundOptions opts;
  opts.cwd = req.run_dir;
  opts.stdout_path = req.run_dir / "stdout.txt";
  opts.stderr_path = req.run_dir / "stderr.txt";
  opts.env.assign(req.spec.process_env.begin(), req.spec.process_env.end());
  try {
    p.pid = start_background({"/bin/bash", "-c", req.spec.command}, opts);
  } catch (const std::exception& e) {
    job.state = JobState::kFailed;
    job.reason = e.what();
    p.status = ExitStatus{127, 0};
    p.ended = p.started;
    processes_[job.handle] = std::move(p);
    return job;
  }
  job.id = std::to_string(p.pid);
  job.state = JobState::kRunning;
  log::debug("started " + req.name + " as pid " + job.id);
  processes_[job.handle] = std::move(p);
  return job;
}

void StandaloneExecutor::finish(Process& p, Job& job, const ExitStatus& st) {
  p.status = st;
  p.ended = std::chrono::system_clock::now();
  if (p.cancelled) {
    job.state = JobState::kCancelled;
    job.reason = "cancelled by benchpilot";
  } else if (st.ok()) {
    job.state = JobState::kCompleted;
    job.reason.clear();
  } else {
    job.state = JobState::kFailed;
    job.reason = st.describe();
  }
}

void StandaloneExecutor::poll(std::vector<Job*>& active) {
  for (Job* job : active) {
    auto it = processes_.find(job->handle);
    if (it == processes_.end() || it->second.status) continue;
    if (auto st = try_wait_group(it->second.pid)) finish(it->second, *job, *st);
  }
}

void StandaloneExecutor::cancel(Job& job) {
  auto it = processes_.find(job.handle);
  if (it == processes_.end() || it->second.status) return;
  it->second.cancelled = true;
  finish(it->second, job, terminate_group(it->second.pid, kCancelGrace));
}

void StandaloneExecutor::write_job_metadata(const Job& job) {
  auto it = processes_.find(job.handle);
  if (it == processes_.end()) return;
  const Process& p = it->second;
  Value doc = Value::table();
  doc.set("job_id", Value::integer(p.pid));
  doc.set("name", Value::string(p.name));
  doc.set("state", Value::string(std::string(to_string(job.state))));
  doc.set("reason", Value::string(job.reason));
  if (p.status) {
    doc.set("exit_code", Value::integer(p.status->code));
    doc.set("exit_signal", Value::integer(p.status->signal));
  }
  doc.set("start_time", Value::string(iso_local(p.started)));
  if (p.status) {
    doc.set("end_time", Value::string(iso_local(p.ended)));
    doc.set("elapsed_time_sec",
            Value::integer(
                std::chrono::duration_cast<std::chrono::seconds>(p.ended - p.started).count()));
  }
  doc.set("command", Value::string(p.command));
  try {
    write_file_atomic(job.run_dir / kStandaloneJobFile, to_toml_document(doc));
  } catch (const FileError& e) {
    log::warn(e.what());
  }
}

std::optional<JobRecord> read_standalone_job_record(const std::filesystem::path& run_dir) {
  return read_toml_job_record(run_dir, kStandaloneJobFile);
}

std::chrono::milliseconds StandaloneExecutor::next_poll_interval(int quiet_rounds) const {
  return backoff_delay(quiet_rounds, std::chrono::milliseconds(100),
                       std::max(max_interval_, std::chrono::milliseconds(100)));
}

}  // namespace bp
