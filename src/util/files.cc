#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "util/log.h"
#include "util/strings.h"

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
  if (S_ISLNK(mode)) return "a symbolic link";
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

// Lines of a text as Python's universal newlines see them (\n, \r\n, \r); no empty last line
// for a trailing terminator.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    lines.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

}  // namespace

std::string read_regular_file(const std::filesystem::path& path, size_t max_bytes, Links links) {
  const std::string name = path.string();
  struct stat st {};
  const int got = links == Links::kFollow ? ::stat(name.c_str(), &st) : ::lstat(name.c_str(), &st);
  if (got != 0) throw FileError("cannot open file: " + reason(errno));
  if (!S_ISREG(st.st_mode))
    throw FileError(std::string("cannot read file: it is ") + kind_of(st.st_mode) +
                    ", not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    throw FileError("cannot read file: it is larger than " + size_text(max_bytes) + " (" +
                    std::to_string(st.st_size) + " bytes)");
  // O_NONBLOCK: should the path have been swapped for a FIFO since stat, open does not block.
  Fd f;
  f.fd = ::open(name.c_str(),
                O_RDONLY | O_CLOEXEC | O_NONBLOCK | (links == Links::kRefuse ? O_NOFOLLOW : 0));
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

AtomicFileWriter::AtomicFileWriter(const std::filesystem::path& path) : target_(path.string()) {
  static std::atomic<unsigned> counter{0};
  tmp_ =
      target_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) throw FileError("cannot write " + target_ + ": " + reason(errno));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (tmp_.empty()) return;  // committed
  if (fd_ >= 0) ::close(fd_);
  ::unlink(tmp_.c_str());
}

void AtomicFileWriter::fail(int err) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  tmp_.clear();
  throw FileError("cannot write " + target_ + ": " + reason(err));
}

void AtomicFileWriter::write(std::string_view piece) {
  while (!piece.empty()) {
    ssize_t n = ::write(fd_, piece.data(), piece.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno);
    piece.remove_prefix(static_cast<size_t>(n));
  }
}

void AtomicFileWriter::commit(Sync sync) {
  if (sync == Sync::kData && ::fdatasync(fd_) != 0) fail(errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(errno);
  if (::rename(tmp_.c_str(), target_.c_str()) != 0) fail(errno);
  tmp_.clear();
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  AtomicFileWriter out(path);
  out.write(content);
  out.commit(AtomicFileWriter::Sync::kData);
}

bool write_file_atomic_or_warn(const std::filesystem::path& path, std::string_view content) {
  try {
    write_file_atomic(path, content);
    return true;
  } catch (const std::exception& e) {
    log::warn(e.what());
    return false;
  }
}

namespace {

// Writes all of content to fd; the errno of the first failure, 0 when all was written.
int write_all(int fd, std::string_view content) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ENOSPC;
    done += static_cast<size_t>(n);
  }
  return 0;
}

// Opens a FIFO for writing without blocking on a missing reader: waits up to
// kFifoReaderWaitSeconds for one. -1 with errno set when it cannot.
int open_fifo_for_writing(const std::string& name) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(kFifoReaderWaitSeconds);
  while (true) {
    int fd = ::open(name.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      // Blocking writes from here on: the reader takes the content at its own pace.
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      return fd;
    }
    if (errno != ENXIO || std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Where a dangling symbolic link points (following a chain of them), for writing a new file
// there; `path` itself when it is not a link.
std::filesystem::path link_destination(const std::filesystem::path& path) {
  std::filesystem::path p = path;
  for (int hops = 0; hops < 40; ++hops) {
    std::error_code ec;
    if (!std::filesystem::is_symlink(std::filesystem::symlink_status(p, ec))) return p;
    std::filesystem::path next = std::filesystem::read_symlink(p, ec);
    if (ec) return p;
    p = next.is_absolute() ? next : p.parent_path() / next;
  }
  return p;
}

}  // namespace

void check_user_output_path(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // absent (or unreachable: the write will say)
  if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return;
  throw OutputError("cannot write " + path.string() + ": it is " + kind_of(st.st_mode) +
                    ", expected a regular file, a character device or a FIFO");
}

void write_user_output(const std::filesystem::path& path, std::string_view content) {
  const std::string name = path.string();
  auto fail = [&](const std::string& why) {
    throw OutputError("cannot write " + name + ": " + why);
  };
  struct stat st {};
  if (::stat(name.c_str(), &st) != 0) {
    if (errno != ENOENT) fail(reason(errno));
    // Absent, or a link to something absent: a new regular file where the link points.
    try {
      write_file_atomic(link_destination(path), content);
    } catch (const FileError& e) {
      throw OutputError(e.what());
    }
    return;
  }
  if (S_ISREG(st.st_mode)) {
    // Our own stdout or stderr sent to a file (`--junit /dev/stdout > out.txt`): appended to it,
    // as the shell would; a rename would cut everything printed after it from out.txt.
    for (int own : {STDOUT_FILENO, STDERR_FILENO}) {
      struct stat o {};
      if (::fstat(own, &o) == 0 && o.st_dev == st.st_dev && o.st_ino == st.st_ino) {
        if (int err = write_all(own, content)) fail(reason(err));
        return;
      }
    }
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::canonical(path, ec);
    if (ec) fail(ec.message());
    try {
      write_file_atomic(target, content);  // the link, if any, stays; its target is replaced
    } catch (const FileError& e) {
      throw OutputError(target == std::filesystem::absolute(path) ? e.what()
                                                                  : name + ": " + e.what());
    }
    return;
  }
  check_user_output_path(path);  // a block device, a socket or a directory: refused
  // Written through: no O_CREAT (it exists), no O_TRUNC (a device or pipe has nothing to cut).
  Fd f;
  f.fd = S_ISFIFO(st.st_mode) ? open_fifo_for_writing(name)
                              : ::open(name.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (f.fd < 0)
    fail(errno == ENXIO ? "no process opened the FIFO for reading within " +
                              std::to_string(kFifoReaderWaitSeconds) + " s"
                        : reason(errno));
  if (int err = write_all(f.fd, content)) fail(reason(err));
  int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) fail(reason(errno));
}

void require_regular_or_absent(const std::filesystem::path& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw FileError(what + " " + path.string() + ": " + reason(errno));
  }
  if (!S_ISREG(st.st_mode))
    throw FileError(what + " " + path.string() + ": it is " + kind_of(st.st_mode) +
                    ", expected a regular file");
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

std::string read_last_lines(const std::filesystem::path& file, int count, size_t max_bytes) {
  if (count <= 0) return {};
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat st {};
  std::string out;
  if (::fstat(fd, &st) == 0)
    out = read_last_lines(fd, static_cast<uint64_t>(st.st_size), count, max_bytes);
  ::close(fd);
  return out;
}

std::string read_last_lines(int fd, uint64_t size_in, int count, size_t max_bytes) {
  if (count <= 0) return {};
  const auto size = static_cast<int64_t>(size_in);
  // Read backwards block by block until the buffer holds `count` whole lines. A cap keeps a
  // log made of one giant line from being read whole; its start is then cut.
  constexpr int64_t kBlock = 64 * 1024;
  const auto max_read = static_cast<int64_t>(max_bytes);
  std::string buf;
  int64_t start = size;
  std::vector<std::string_view> lines;
  while (true) {
    int64_t block = std::min({kBlock, start, max_read - (size - start)});
    start -= block;
    std::string piece(static_cast<size_t>(block), '\0');
    if (::pread(fd, piece.data(), static_cast<size_t>(block), static_cast<off_t>(start)) != block)
      return {};
    buf.insert(0, piece);
    lines = split_lines(buf);
    // The first line is partial unless the buffer starts at the file start.
    size_t whole = lines.size() - (start > 0 && !lines.empty() ? 1 : 0);
    if (start == 0 || whole >= static_cast<size_t>(count) || size - start >= max_read) break;
  }
  size_t first = lines.size() > static_cast<size_t>(count) ? lines.size() - count : 0;
  std::string out;
  for (size_t i = first; i < lines.size(); ++i) {
    if (i > first) out += '\n';
    out.append(lines[i]);
  }
  return out;
}

namespace {
std::mutex scan_mu;
std::map<std::string, uint64_t>& scan_counts() {
  static std::map<std::string, uint64_t> counts;
  return counts;
}
}  // namespace

int open_for_scan(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    std::lock_guard<std::mutex> lock(scan_mu);
    ++scan_counts()[file.string()];
  }
  return fd;
}

uint64_t scans_of(const std::filesystem::path& file) {
  std::lock_guard<std::mutex> lock(scan_mu);
  auto it = scan_counts().find(file.string());
  return it == scan_counts().end() ? 0 : it->second;
}

std::string file_excerpt(const std::filesystem::path& path, int head_lines, int tail_lines) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  // The first and last 64 KiB are plenty for the lines we keep.
  const std::streamoff kPart = 64 * 1024;
  const std::streamoff size = in.tellg();
  auto read_at = [&](std::streamoff from, std::streamoff n) {
    std::string text(static_cast<size_t>(n), '\0');
    in.seekg(from);
    in.read(text.data(), static_cast<std::streamsize>(n));
    text.resize(static_cast<size_t>(in.gcount()));
    return text;
  };
  std::vector<std::string> head = split(read_at(0, std::min(size, kPart)), '\n');
  std::vector<std::string> tail = head;
  int64_t omitted_unknown = 0;  // lines between the two parts that were never read
  if (size > 2 * kPart) {
    head.pop_back();  // its last line may be cut
    tail = split(read_at(size - kPart, kPart), '\n');
    tail.erase(tail.begin());  // its first line may be cut
    omitted_unknown = 1;
  }
  while (!tail.empty() && trim(tail.back()).empty()) tail.pop_back();
  auto cut = [](std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > 300) line = line.substr(0, 300) + "...";
    return line;
  };
  std::vector<std::string> out;
  const size_t h = static_cast<size_t>(std::max(head_lines, 0));
  const size_t t = static_cast<size_t>(std::max(tail_lines, 0));
  if (!omitted_unknown && tail.size() <= h + t) {
    for (const std::string& line : tail) out.push_back(cut(line));
    return join(out, "\n");
  }
  for (size_t i = 0; i < h && i < head.size(); ++i) out.push_back(cut(head[i]));
  const size_t keep_tail = std::min(t, tail.size());
  if (omitted_unknown)
    out.push_back("[... lines left out ...]");
  else
    out.push_back("[... " + std::to_string(tail.size() - h - keep_tail) + " lines left out ...]");
  for (size_t i = tail.size() - keep_tail; i < tail.size(); ++i) out.push_back(cut(tail[i]));
  return join(out, "\n");
}

}  // namespace bp
