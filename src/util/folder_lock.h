// One benchpilot per results folder: an exclusive flock on <folder>/.benchpilot.lock, released
// by the kernel when the holder exits in any way (kill -9 included), so a stale lock never
// blocks a resume.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "util/error.h"

namespace bp {

class FolderLock {
 public:
  // Takes the lock or throws Error saying which process holds it.
  static std::unique_ptr<FolderLock> acquire(const std::filesystem::path& folder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  explicit FolderLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The start time of a process (clock ticks since boot, /proc/<pid>/stat field 22); 0 when it
// does not exist. With the pid it identifies a process across pid reuse.
unsigned long long process_start_time(int pid);
// Whether the process identified by (pid, start time) still runs.
bool process_alive(int pid, unsigned long long start_time);

}  // namespace bp
