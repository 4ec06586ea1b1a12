#include "util/line_appender.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/files.h"

namespace bp {

LineAppender::LineAppender(const std::filesystem::path& path) : path_(path.string()) {
  // O_NOFOLLOW: the file is in a results folder, benchpilot's own; a link planted there is
  // refused, never written through.
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) throw FileError("cannot write " + path_ + ": " + std::strerror(errno));
}

LineAppender::~LineAppender() {
  try {
    flush();
  } catch (const FileError&) {  // reported by the flush the owner called; nothing more to do
  }
  if (fd_ >= 0) ::close(fd_);
}

void LineAppender::append(std::string_view text) {
  pending_.append(text);
  if (pending_.size() > buffer_bytes_) flush();
}

void LineAppender::flush() {
  const size_t end = pending_.rfind('\n');
  if (end == std::string::npos || fd_ < 0) return;
  const size_t n = end + 1;
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd_, pending_.data() + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = w < 0 ? errno : ENOSPC;
      // Never leave half a line behind: cut the file back to its last whole line.
      if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) == 0)
        ::lseek(fd_, static_cast<off_t>(size_), SEEK_SET);
      throw FileError("cannot write " + path_ + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(w);
  }
  size_ += n;
  pending_.erase(0, n);
}

}  // namespace bp
