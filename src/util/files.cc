#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace bp {

namespace {

std::string reason(int err) {
  return std::strerror(err);
}

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string size_text(size_t bytes) {
  if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
  return std::to_string(bytes) + " bytes";
}

// Closes on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string read_regular_file(const std::filesystem::path& path, size_t max_bytes) {
  const std::string name = path.string();
  struct stat st {};
  if (::stat(name.c_str(), &st) != 0) throw FileError("cannot open file: " + reason(errno));
  if (!S_ISREG(st.st_mode))
    throw FileError(std::string("cannot read file: it is ") + kind_of(st.st_mode) +
                    ", not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    throw FileError("cannot read file: it is larger than " + size_text(max_bytes) + " (" +
                    std::to_string(st.st_size) + " bytes)");
  // O_NONBLOCK: should the path have been swapped for a FIFO since stat, open does not block.
  Fd f;
  f.fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f.fd < 0) throw FileError("cannot open file: " + reason(errno));
  struct stat st2 {};
  if (::fstat(f.fd, &st2) != 0 || !S_ISREG(st2.st_mode))
    throw FileError("cannot read file: it is not a regular file");
  std::string out;
  out.reserve(static_cast<size_t>(st2.st_size));
  char buf[65536];
  while (true) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw FileError("cannot read file: " + reason(errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes)
      throw FileError("cannot read file: it is larger than " + size_text(max_bytes));
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  static std::atomic<unsigned> counter{0};
  const std::string target = path.string();
  const std::string tmp =
      target + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  auto fail = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    throw FileError("cannot write " + target + ": " + what + reason(err));
  };
  Fd f;
  f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (f.fd < 0) throw FileError("cannot write " + target + ": " + reason(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(f.fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("", errno);
    }
    done += static_cast<size_t>(n);
  }
  int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) fail("", errno);
  if (::rename(tmp.c_str(), target.c_str()) != 0) fail("", errno);
}

bool is_inside(const std::filesystem::path& root, const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path r = std::filesystem::absolute(root, ec);
  if (ec) return false;
  r = std::filesystem::weakly_canonical(r, ec);
  if (ec) return false;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) return false;
  p = std::filesystem::weakly_canonical(p, ec);
  if (ec) return false;
  auto [ri, pi] = std::mismatch(r.begin(), r.end(), p.begin(), p.end());
  // weakly_canonical keeps a trailing empty element for "dir/": ignore it.
  return ri == r.end() || (std::next(ri) == r.end() && ri->empty());
}

}  // namespace bp
