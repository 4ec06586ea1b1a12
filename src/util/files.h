// Reading input files defensively and writing results files atomically.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "util/error.h"

namespace bp {

// Config files are small; anything bigger is a mistake (or /dev/zero behind a symlink).
constexpr size_t kMaxConfigFileBytes = 16 * 1024 * 1024;

// Whether a symbolic link at the path itself is followed. A user's input files may be links;
// a file inside a results folder is benchpilot's own, and a link planted there is refused.
enum class Links { kFollow, kRefuse };

// The whole content of a regular file of at most max_bytes. Devices, FIFOs, sockets and
// directories are refused before they are opened (so a FIFO cannot block us), as is a file that
// is, or grows, larger than max_bytes. Throws FileError with the reason ("No such file or
// directory", "is a FIFO, not a regular file", "is larger than 16 MiB").
std::string read_regular_file(const std::filesystem::path& path,
                              size_t max_bytes = kMaxConfigFileBytes, Links links = Links::kFollow);

// The one tail reader. The last `count` lines of a file (\n, \r\n and \r end lines, as Python's
// universal newlines; no empty last line for a trailing terminator), joined with "\n", reading
// backwards no more of the file than those lines; at most `max_bytes` are read, so a file of
// one giant line yields its end. Empty when the file is empty or unreadable, or count <= 0.
std::string read_last_lines(const std::filesystem::path& file, int count,
                            size_t max_bytes = 16 * 1024 * 1024);
// The same over a file already open (`fd`, its first `size` bytes), read with pread: a reader
// that scanned the file takes its end without opening it again.
std::string read_last_lines(int fd, uint64_t size, int count, size_t max_bytes = 16 * 1024 * 1024);

// Opens `file` read-only for one whole scan and counts it (scans_of), so a test can show that a
// command reads a big log once; -1 (errno set) when it cannot be opened.
int open_for_scan(const std::filesystem::path& file);
// How many times open_for_scan opened `file` (as spelled) in this process.
uint64_t scans_of(const std::filesystem::path& file);

// Replaces `path` with `content` so that readers (and a crash, a full disk, a kill) see either
// the old file or the new one, never a truncated mix: writes a temporary file beside it, syncs
// it, then renames it over. For benchpilot's own files (those in a results folder): a symbolic
// link planted at `path` is replaced, never followed. Throws FileError naming the file and the
// reason (e.g. "No space left on device"); the old file is then untouched and the temporary
// removed.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// write_file_atomic in pieces, for a file too big to hold in memory (a run's per-step training
// report): the same temporary beside `path`, renamed over it by commit(). Until then readers
// see the old file; a writer destroyed uncommitted (an exception, an early return) removes its
// temporary. Throws FileError naming the file and the reason.
class AtomicFileWriter {
 public:
  // kData: synced before the rename (write_file_atomic's rule: a machine crash leaves the old
  // file or the new one). kNone: for a file derived from another that can be written again from
  // it, where syncing hundreds of MB would make the command wait on the disk.
  enum class Sync { kData, kNone };
  explicit AtomicFileWriter(const std::filesystem::path& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  void write(std::string_view piece);
  void commit(Sync sync);

 private:
  [[noreturn]] void fail(int err);
  std::string target_, tmp_;
  int fd_ = -1;
};

// write_file_atomic for files a run can do without (report.html): logs the reason as a warning
// and returns false when it cannot. Never throws.
bool write_file_atomic_or_warn(const std::filesystem::path& path, std::string_view content);

// Writes a file the user named on the command line (--junit, --html). Symbolic links are
// followed and the rule applies to what they name:
//  - absent or a regular file: write_file_atomic on it (a link stays a link), unless it is the
//    file our stdout or stderr goes to (/dev/stdout redirected to a file): appended there;
//  - a character device or a FIFO (/dev/null, /dev/stdout, a pipe): written through, with no
//    temporary file and no rename; a FIFO nobody opens for reading within
//    kFifoReaderWaitSeconds is an error, not a hang;
//  - a block device, a socket or a directory: refused, nothing opened.
// Throws OutputError naming the path and the reason ("No space left on device").
void write_user_output(const std::filesystem::path& path, std::string_view content);

// write_user_output's refusal alone, for an output another library opens (--log-file): throws
// OutputError for a block device, a socket or a directory (or a link to one).
void check_user_output_path(const std::filesystem::path& path);
constexpr int kFifoReaderWaitSeconds = 10;

// Refuses, with a FileError naming the path, anything at `path` other than a regular file (or a
// link to one), so that SQLite or an appender opens it in place: absent is fine.
void require_regular_or_absent(const std::filesystem::path& path, const std::string& what);

// True when `path` names `root` or something below it once both are made absolute and "." and
// ".." are resolved (symbolic links in the existing part of the paths too).
bool is_inside(const std::filesystem::path& root, const std::filesystem::path& path);

// The first `head_lines` and the last `tail_lines` lines of a file, with "[... N lines left
// out ...]" between them when there are more; each line cut to 300 characters. For error
// messages whose cause comes first (a failed command) and whose last words come last (a
// traceback): the tail alone loses the cause. Not read_last_lines (util/files.h): it keeps the
// head too and cuts long lines.
std::string file_excerpt(const std::filesystem::path& path, int head_lines, int tail_lines);

}  // namespace bp
