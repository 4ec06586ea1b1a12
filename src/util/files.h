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

// The whole content of a regular file of at most max_bytes. Devices, FIFOs, sockets and
// directories are refused before they are opened (so a FIFO cannot block us), as is a file that
// is, or grows, larger than max_bytes. Throws FileError with the reason ("No such file or
// directory", "is a FIFO, not a regular file", "is larger than 16 MiB").
std::string read_regular_file(const std::filesystem::path& path,
                              size_t max_bytes = kMaxConfigFileBytes);

// Replaces `path` with `content` so that readers (and a crash, a full disk, a kill) see either
// the old file or the new one, never a truncated mix: writes a temporary file beside it, then
// renames it over. Throws FileError naming the file and the reason (e.g. "No space left on
// device"); the old file is then untouched and the temporary removed.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// True when `path` names `root` or something below it once both are made absolute and "." and
// ".." are resolved (symbolic links in the existing part of the paths too).
bool is_inside(const std::filesystem::path& root, const std::filesystem::path& path);

}  // namespace bp
