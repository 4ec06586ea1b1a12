// The campaign journal: an append-only file in each results folder (journal.bpj) that records
// every sweep point's transitions before the action they describe happens, so a benchpilot that
// dies at any instant (kill -9, lost session, reboot) can be resumed without submitting a point
// twice or redoing a finished run.
//
// One record per line: "<crc32 as 8 hex digits> <JSON>\n", written (write(2)) before the
// action it describes, so a killed benchpilot never loses one. Records that precede an action
// a reboot must not forget (a submission, an scancel), the header and the end are also flushed
// to disk (fdatasync) before append() returns, and a new journal's directory entries (in the
// results folder and of the folder in its parent) are flushed when it is created; since fdatasync
// flushes the whole file, every earlier record is then durable too, and a reboot can lose at most
// records whose actions a resume redoes harmlessly (a planned point is prepared again, a job id or
// result is read from Slurm again). That is one flush per point instead of four. A line whose
// checksum does not match (a torn last write after a crash) is ignored, never fatal; appending
// after such a line first cuts the file back to the last good record.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/run_record.h"
#include "util/error.h"

namespace bp {

// A sweep point (or a plain case's iteration, step 0).
struct PointKey {
  std::string case_id;
  int iteration = 0;
  int step = 0;
  bool operator<(const PointKey& o) const {
    return std::tie(case_id, iteration, step) < std::tie(o.case_id, o.iteration, o.step);
  }
  bool operator==(const PointKey& o) const {
    return case_id == o.case_id && iteration == o.iteration && step == o.step;
  }
  // "case/iteration/step" (step omitted when 0), as in job comments and logs.
  std::string str() const;
};

// Where a point stood when the journal was last written.
enum class PointStage {
  kPlanned,     // chosen; its files may be half-written; nothing submitted
  kSubmitting,  // a submission started; a job may exist without a recorded id
  kSubmitted,   // job id known
  kFinished,    // ended; `record` is what the summary shows
  kCancelled,   // cancelled by benchpilot (Ctrl-C, fail-fast): runs again on resume
};

struct PointState {
  PointStage stage = PointStage::kPlanned;
  std::string comment;  // the job comment carrying campaign id and point
  std::string job_id;
  bool self_submitting = false;     // the job is submitted by a wrapper (launcher), not sbatch
  int submitter_pid = 0;            // the self-submitting wrapper, if any
  uint64_t submitter_start = 0;     // its start time (/proc/<pid>/stat), against pid reuse
  int batch = 0;                    // finished: which wait round delivered it (1-based)
  std::optional<RunRecord> record;  // finished
};

// What identifies a campaign and the inputs its points came from.
struct CampaignHeader {
  std::string id;
  std::string scenario;
  std::string created;  // ISO 8601, UTC
  std::string benchpilot_version;
  // The command-line inputs, so `benchpilot resume DIR` can load them again.
  std::map<std::string, std::string> inputs;
  // Per case: a fingerprint of everything that decides its points.
  std::map<std::string, std::string> case_fingerprints;
};

struct JournalContents {
  std::optional<CampaignHeader> header;
  std::map<PointKey, PointState> points;
  // Per (case, iteration): the steps of each finished batch, in delivery order.
  std::map<std::pair<std::string, int>, std::vector<std::vector<int>>> batches;
  bool complete = false;  // a "done" record: the campaign ended (not interrupted)
  int exit_code = 0;
  size_t records = 0;
  size_t ignored_lines = 0;  // bad checksum or torn
  uint64_t valid_bytes = 0;  // length of the prefix made of good records
};

// Reads a journal; a missing file reads as empty. Never throws for damaged content; throws
// FileError naming the file when it is not a regular file (a FIFO, /dev/zero, a symbolic link:
// the journal is benchpilot's own, and a link planted there is not followed). No size cap: a
// long campaign's journal may be large, and a regular file ends.
JournalContents read_journal(const std::filesystem::path& path);

class JournalWriter {
 public:
  // Opens (creating) the journal for appending; cuts a torn tail back to `valid_bytes` first.
  // Throws FileError naming the file when it cannot be opened or is not a regular file.
  explicit JournalWriter(const std::filesystem::path& path, uint64_t valid_bytes = UINT64_MAX);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  void header(const CampaignHeader& h);
  void planned(const PointKey& k);
  void submitting(const PointKey& k, const std::string& comment, bool self_submitting);
  void submitted(const PointKey& k, const std::string& job_id, int submitter_pid,
                 uint64_t submitter_start);
  void finished(const PointKey& k, int batch, const RunRecord& rec,
                const std::filesystem::path& root);
  void cancelled(const PointKey& k);
  void done(int exit_code);

  uint64_t fsyncs() const { return fsyncs_; }
  uint64_t records() const { return records_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  void append(const std::string& json, bool flush);

  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t fsyncs_ = 0;
  uint64_t records_ = 0;
};

// CRC-32 (IEEE), the journal's line checksum.
uint32_t crc32(std::string_view data);

}  // namespace bp
