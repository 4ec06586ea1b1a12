#include "util/files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "testkit/testkit.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class FilesTest : public ::testing::Test {
 protected:
  std::string error_of(const fs::path& p, size_t max = kMaxConfigFileBytes) {
    try {
      read_regular_file(p, max);
    } catch (const FileError& e) {
      return e.what();
    }
    return "(no error)";
  }
  testkit::TempDir dir_;
};

TEST_F(FilesTest, ReadsARegularFile) {
  std::ofstream(dir_ / "a.toml") << "x = 1\n";
  EXPECT_EQ(read_regular_file(dir_ / "a.toml"), "x = 1\n");
}

TEST_F(FilesTest, MissingFileGivesTheReason) {
  EXPECT_EQ(error_of(dir_ / "nope.toml"), "cannot open file: No such file or directory");
}

TEST_F(FilesTest, DevicesAndDirectoriesAreRefusedBeforeReading) {
  EXPECT_THAT(error_of("/dev/zero"), HasSubstr("it is a character device, not a regular file"));
  EXPECT_THAT(error_of(dir_), HasSubstr("it is a directory"));
  fs::create_symlink("/dev/urandom", dir_ / "link.toml");
  EXPECT_THAT(error_of(dir_ / "link.toml"), HasSubstr("character device"));
}

// A FIFO nobody writes to used to block the reader forever.
TEST_F(FilesTest, FifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo.toml").c_str(), 0600), 0);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(error_of(dir_ / "fifo.toml"), HasSubstr("it is a FIFO"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(FilesTest, SizeCap) {
  std::ofstream(dir_ / "big.toml") << std::string(100, 'x');
  EXPECT_THAT(error_of(dir_ / "big.toml", 99), HasSubstr("larger than 99 bytes"));
  EXPECT_EQ(read_regular_file(dir_ / "big.toml", 100).size(), 100u);
}

TEST_F(FilesTest, AtomicWriteReplacesAndLeavesNoTemporary) {
  write_file_atomic(dir_ / "summary.json", "old");
  write_file_atomic(dir_ / "summary.json", "new content");
  EXPECT_EQ(read_regular_file(dir_ / "summary.json"), "new content");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(FilesTest, FailedAtomicWriteNamesTheFileAndReason) {
  try {
    write_file_atomic(dir_ / "missing" / "x.txt", "data");
    ADD_FAILURE() << "wrote into a missing folder";
  } catch (const FileError& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing/x.txt: No such file or directory"));
  }
}

// A write that fails half-way (here the file size limit, as a full disk would) leaves the old
// file whole and names the reason; summary.json used to be left truncated to 0 bytes.
TEST_F(FilesTest, FailedWriteKeepsTheOldFile) {
  write_file_atomic(dir_ / "report.txt", "kept");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim {
      1024, 1024
    };
    ::setrlimit(RLIMIT_FSIZE, &lim);
    try {
      write_file_atomic(dir_ / "report.txt", std::string(100000, 'x'));
    } catch (const FileError& e) {
      ::_exit(std::string(e.what()).find("File too large") != std::string::npos ? 0 : 2);
    }
    ::_exit(3);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(read_regular_file(dir_ / "report.txt"), "kept");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1) << "the temporary file was left behind";
}

TEST_F(FilesTest, IsInside) {
  EXPECT_TRUE(is_inside(dir_, dir_ / "a" / "b"));
  EXPECT_TRUE(is_inside(dir_, dir_));
  EXPECT_FALSE(is_inside(dir_, dir_ / ".." / "x"));
  EXPECT_FALSE(is_inside(dir_, dir_ / "a" / ".." / ".." / "x"));
  EXPECT_FALSE(is_inside(dir_ / "a", dir_ / "ab"));
  fs::create_directory_symlink("/tmp", dir_ / "escape");
  EXPECT_FALSE(is_inside(dir_, dir_ / "escape" / "x"));
}

}  // namespace
}  // namespace bp
