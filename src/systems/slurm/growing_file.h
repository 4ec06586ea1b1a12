// A file another process appends to (a wrapper's submit.stdout, the job-completion log), read a
// little at a time: one reader for "the whole lines added since the last read".
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace bp {

// How far a growing file was read, and a last line that had no newline yet.
struct GrowingFile {
  uint64_t offset = 0;
  std::string partial;
};

// Whether a growing file's last line without a newline is taken: only once its writer is gone
// ("Submitted batch job 1" may be the first half of "...job 12").
enum class LastLine { kWaitForNewline, kTakeAsIs };

// kTakeAsIs once the writer exited, else kWaitForNewline.
LastLine last_line_once(bool writer_exited);

// The whole lines `path` gained since the last read, without their final newline; with
// LastLine::kTakeAsIs also a last line that has none. Empty when nothing whole was added.
std::string read_new_lines(const std::filesystem::path& path, GrowingFile& file, LastLine last);

}  // namespace bp
