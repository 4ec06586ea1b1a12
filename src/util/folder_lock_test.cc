#include "util/folder_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <stdexcept>

#include "testkit/testkit.h"
#include "util/error.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

TEST(FolderLock, RefusesASecondHolderAndIsReleasedWithIt) {
  testkit::TempDir tmp;
  const fs::path dir = tmp.path();
  auto first = FolderLock::acquire(dir);
  try {
    FolderLock::acquire(dir);
    ADD_FAILURE() << "second lock was granted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another benchpilot (pid " + std::to_string(::getpid())),
              std::string::npos)
        << e.what();
  }
  first.reset();
  EXPECT_NO_THROW(FolderLock::acquire(dir));
}

TEST(ProcessIdentity, OwnProcessIsAliveWithItsStartTime) {
  unsigned long long start = process_start_time(::getpid());
  EXPECT_GT(start, 0u);
  EXPECT_TRUE(process_alive(::getpid(), start));
  EXPECT_FALSE(process_alive(::getpid(), start + 1));  // same pid, another process
  EXPECT_FALSE(process_alive(0, 0));
}

}  // namespace
}  // namespace bp
