// The submission wrapper of a self-submitting job (a launcher that calls sbatch itself): the
// process, and the job ids it prints on submit.stdout. The executor's side is in
// submission_wrapper.cc.
#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>

#include "systems/slurm/growing_file.h"
#include "util/subprocess.h"

namespace bp {

struct WrapperWatch {
  // Our own wrapper: its process (leader of its group) and, once it ended, how.
  pid_t pid = -1;
  std::optional<ExitStatus> status;
  // Re-attached: the earlier session's wrapper (not our child), by pid and start time.
  int orphan_pid = 0;
  unsigned long long orphan_start = 0;
  // Re-attached to a self-submitted job: submit.stdout, which that wrapper may still write
  // (a launcher retry), is followed like our own wrappers' output.
  bool follow_output = false;
  GrowingFile submit_stdout;       // how far submit.stdout was read
  std::set<std::string> seen_ids;  // every job id the wrapper reported

  // Our wrapper was started and has not been seen to end.
  bool running() const { return pid > 0 && !status; }
};

}  // namespace bp
