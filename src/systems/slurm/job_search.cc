// Finding a point's job again: after a failed sbatch (did it queue the job after all?) and on
// resume (the job an earlier session submitted, re-attached and watched).
#include <algorithm>
#include <fstream>
#include <iterator>

#include "systems/slurm/growing_file.h"
#include "systems/slurm/slurm_executor.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

namespace fs = std::filesystem;

namespace {

// Slurm job ids grow: of the numeric ids offered, keeps the newest (others are ignored).
class NewestJobId {
 public:
  void offer(std::string_view id) {
    id = trim(id);
    if (id.empty() || id.find_first_not_of("0123456789") != std::string_view::npos) return;
    if (!newest_ || id.size() > newest_->size() || (id.size() == newest_->size() && id > *newest_))
      newest_ = std::string(id);
  }
  const std::optional<std::string>& get() const { return newest_; }

 private:
  std::optional<std::string> newest_;
};

}  // namespace

Job SlurmExecutor::attach(const JobRequest& req, bool self_submitting, const std::string& job_id,
                          int submitter_pid, unsigned long long submitter_start) {
  Job job;
  job.handle = next_handle_++;
  job.run_dir = req.run_dir;
  job.id = job_id;
  job.state = JobState::kPending;
  SlurmJobWatch& t = watches_[job.handle];
  t.name = req.name;
  t.run_dir = req.run_dir;
  t.self_submitting = false;  // its wrapper is not our child: watch the Slurm job only
  t.submit_line = self_submitting ? std::string("(submitted by an earlier session)") : "sbatch";
  finished_.watch(job_id);
  if (self_submitting) {
    t.wrapper.orphan_pid = submitter_pid;
    t.wrapper.orphan_start = submitter_start;
    t.wrapper.follow_output = true;
    std::vector<std::string> ids = scan_wrapper_output(t, LastLine::kWaitForNewline);
    if (std::find(ids.begin(), ids.end(), job_id) == ids.end()) ids.push_back(job_id);
    for (const std::string& id : ids) {
      t.wrapper.seen_ids.insert(id);
      finished_.watch(id);
    }
    job.id = ids.back();
    for (size_t i = 0; i + 1 < ids.size(); ++i) {  // their end is asked with the next poll
      job.earlier_attempts.push_back(JobAttempt{ids[i], JobState::kUnknown, std::nullopt, 0});
      t.unresolved_ids.push_back(ids[i]);
    }
    if (job.id != job_id)
      log::info(t.name + ": the launcher of the earlier session retried; following its job " +
                job.id + " (attempt " + std::to_string(ids.size()) + ")");
  }
  return job;
}

std::optional<std::string> SlurmExecutor::find_lost_job(const std::string& comment,
                                                        const fs::path& run_dir) {
  // Our jobs carry the comment (a launcher's through the workload's parameters). Failing that
  // (a launcher that could not pass it), a launcher's job is submitted from the run dir (its
  // WorkDir) and writes its log below it (NEMORUN_HOME is the run dir). A launcher that retried
  // leaves several jobs: the newest is the live one.
  const std::string dir = fs::absolute(run_dir).lexically_normal().string();
  NewestJobId newest;
  auto ours = [&](std::string_view c, std::string_view work, std::string_view out) {
    c = trim(c);
    work = trim(work);
    out = trim(out);
    // "<comment>:pre_test": the point's gate job, from the same folder: never the point's job.
    if (!comment.empty() && c.size() > comment.size() && c.substr(0, comment.size()) == comment &&
        c[comment.size()] == ':')
      return false;
    return (!comment.empty() && c == comment) || work == dir ||
           (out.size() > dir.size() && out.substr(0, dir.size()) == dir && out[dir.size()] == '/');
  };
  CommandResult r =
      commands_.call({"squeue", "-h", "--states=all", "-O", "JobID:|,Comment:|,WorkDir:|,STDOUT:|"},
                     Retry::kYes, command_options());
  if (r.ok())
    for (const std::string& line : split(r.out, '\n')) {
      std::vector<std::string> f = split(line, '|');
      if (f.size() >= 4 && ours(f[1], f[2], f[3])) newest.offer(f[0]);
    }
  if (!newest.get() && finished_.accounting().value_or(true)) {
    CommandResult a = commands_.call(
        {"sacct", "-X", "-n", "-P", "-S", "now-7days", "--format=JobIDRaw,Comment,WorkDir"},
        Retry::kYes, command_options());
    if (a.ok())
      for (const std::string& line : split(a.out, '\n')) {
        std::vector<std::string> f = split(line, '|');
        if (f.size() >= 3 && ours(f[1], f[2], "")) newest.offer(f[0]);
      }
  }
  if (newest.get()) return newest.get();
  std::ifstream in(run_dir / "submit.stdout", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return find_submitted_job_id(text);
}

std::optional<std::string> SlurmExecutor::queued_job_with_comment(const std::string& comment) {
  CommandResult r =
      commands_.call({"squeue", "-h", "--states=all", "-O", "JobID:|,Comment:|,State:|"},
                     Retry::kYes, command_options());
  if (!r.ok()) return std::nullopt;
  NewestJobId newest;
  for (const std::string& line : split(r.out, '\n')) {
    std::vector<std::string> f = split(line, '|');
    if (f.size() < 3 || trim(f[1]) != comment) continue;
    // An earlier session's job of this point (resumed after it was cancelled) has our comment
    // too; the one just submitted cannot have been cancelled yet.
    if (job_state_from_slurm(f[2]) == JobState::kCancelled) continue;
    newest.offer(f[0]);
  }
  return newest.get();
}

}  // namespace bp
