#include "util/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "util/error.h"

namespace bp {

namespace fs = std::filesystem;

std::unique_ptr<FolderLock> FolderLock::acquire(const fs::path& folder) {
  const fs::path path = folder / ".benchpilot.lock";
  int fd =
      ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);  // no planted link
  if (fd < 0) throw FileError("cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::string holder;
    std::ifstream(path) >> holder;
    ::close(fd);
    throw Error("another benchpilot" + (holder.empty() ? std::string() : " (pid " + holder + ")") +
                " is working on " + folder.string() + "; wait for it to end or stop it first");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
    (void)ignored;
  }
  return std::unique_ptr<FolderLock>(new FolderLock(fd));
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

unsigned long long process_start_time(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  for (int i = 3; i < 22 && rest >> field; ++i) {
  }
  unsigned long long start = 0;
  rest >> start;
  return start;
}

bool process_alive(int pid, unsigned long long start_time) {
  if (pid <= 0) return false;
  unsigned long long now = process_start_time(pid);
  if (now == 0) return false;
  // A zombie has ended; read its state (field 3).
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  size_t close = text.rfind(')');
  if (close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z') return false;
  return start_time == 0 || now == start_time;
}

}  // namespace bp
