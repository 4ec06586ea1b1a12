#include "util/files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

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

// Written in pieces: readers see the old file until commit; a writer that never commits (an
// exception on the way) leaves the old file and no temporary.
TEST_F(FilesTest, AtomicWriterInPiecesShowsTheOldFileUntilCommit) {
  write_file_atomic(dir_ / "training_report.json", "old");
  {
    AtomicFileWriter out(dir_ / "training_report.json");
    out.write("new ");
    out.write("content");
    EXPECT_EQ(read_regular_file(dir_ / "training_report.json"), "old");
    out.commit(AtomicFileWriter::Sync::kNone);
  }
  EXPECT_EQ(read_regular_file(dir_ / "training_report.json"), "new content");
  {
    AtomicFileWriter abandoned(dir_ / "training_report.json");
    abandoned.write("half");
  }
  EXPECT_EQ(read_regular_file(dir_ / "training_report.json"), "new content");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1) << "a temporary file was left behind";
  // A commit that cannot rename (the target is now a non-empty folder) names it and cleans up.
  fs::create_directories(dir_ / "folder" / "inside");
  AtomicFileWriter blocked(dir_ / "folder");
  blocked.write("x");
  EXPECT_THROW(blocked.commit(AtomicFileWriter::Sync::kData), FileError);
  files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 2);
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

// The file type at `path` without following a link: 'l', 'c', 'p', 'f', 'd', '-' when absent.
char type_of(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return '-';
  if (S_ISLNK(st.st_mode)) return 'l';
  if (S_ISCHR(st.st_mode)) return 'c';
  if (S_ISFIFO(st.st_mode)) return 'p';
  if (S_ISDIR(st.st_mode)) return 'd';
  return S_ISREG(st.st_mode) ? 'f' : '?';
}

std::string output_error(const fs::path& path) {
  try {
    write_user_output(path, "<xml/>\n");
  } catch (const OutputError& e) {
    return e.what();
  }
  return "(written)";
}

TEST_F(FilesTest, UserOutputThroughALinkToDevNullWritesThroughAndKeepsBoth) {
  fs::create_symlink("/dev/null", dir_ / "out.xml");
  write_user_output(dir_ / "out.xml", "<xml/>\n");
  EXPECT_EQ(type_of(dir_ / "out.xml"), 'l');
  EXPECT_EQ(fs::read_symlink(dir_ / "out.xml"), "/dev/null");
  EXPECT_EQ(type_of("/dev/null"), 'c');
}

TEST_F(FilesTest, UserOutputToDevFullFailsWithNoSpaceLeft) {
  fs::create_symlink("/dev/full", dir_ / "out.xml");
  EXPECT_THAT(output_error(dir_ / "out.xml"), testing::AllOf(HasSubstr((dir_ / "out.xml").string()),
                                                             HasSubstr("No space left on device")));
  EXPECT_EQ(type_of(dir_ / "out.xml"), 'l');
  EXPECT_EQ(type_of("/dev/full"), 'c');
}

TEST_F(FilesTest, UserOutputToAFifoIsWrittenThroughToItsReader) {
  const fs::path fifo = dir_ / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  std::string got;
  std::thread reader([&] { got = testkit::read_file(fifo); });
  write_user_output(fifo, "<xml/>\n");
  reader.join();
  EXPECT_EQ(got, "<xml/>\n");
  EXPECT_EQ(type_of(fifo), 'p');
}

TEST_F(FilesTest, UserOutputFollowsALinkToARegularFileAndCreatesADanglingLinksTarget) {
  testkit::write_file(dir_ / "real.xml", "old");
  fs::create_symlink("real.xml", dir_ / "out.xml");
  write_user_output(dir_ / "out.xml", "new");
  EXPECT_EQ(type_of(dir_ / "out.xml"), 'l');
  EXPECT_EQ(testkit::read_file(dir_ / "real.xml"), "new");

  fs::create_symlink("later.xml", dir_ / "dangling.xml");
  write_user_output(dir_ / "dangling.xml", "made");
  EXPECT_EQ(type_of(dir_ / "dangling.xml"), 'l');
  EXPECT_EQ(testkit::read_file(dir_ / "later.xml"), "made");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 4) << "a temporary file was left behind";
}

TEST_F(FilesTest, UserOutputRefusesDirectoriesSocketsAndBlockDevices) {
  fs::create_directory(dir_ / "dir");
  EXPECT_THAT(output_error(dir_ / "dir"), HasSubstr("it is a directory"));
  fs::create_directory_symlink(dir_ / "dir", dir_ / "dirlink");
  EXPECT_THAT(output_error(dir_ / "dirlink"), HasSubstr("it is a directory"));
  EXPECT_EQ(type_of(dir_ / "dirlink"), 'l');

  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = (dir_ / "sock").string();
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, sock_path.c_str());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_THAT(output_error(dir_ / "sock"), HasSubstr("it is a socket"));
  ::close(sock);

  // A block device node made in the temp dir (needs root; /dev itself is never touched).
  if (::mknod((dir_ / "blk").c_str(), S_IFBLK | 0600, ::makedev(7, 200)) == 0) {
    EXPECT_THAT(output_error(dir_ / "blk"), HasSubstr("it is a block device"));
    struct stat st {};
    ASSERT_EQ(::lstat((dir_ / "blk").c_str(), &st), 0);
    EXPECT_TRUE(S_ISBLK(st.st_mode));
  }
}

TEST_F(FilesTest, AtomicWriteReplacesALinkPlantedInTheResultsFolderWithoutFollowingIt) {
  testkit::write_file(dir_ / "victim", "precious");
  fs::create_symlink(dir_ / "victim", dir_ / "summary.json");
  write_file_atomic(dir_ / "summary.json", "{}");
  EXPECT_EQ(type_of(dir_ / "summary.json"), 'f');
  EXPECT_EQ(testkit::read_file(dir_ / "summary.json"), "{}");
  EXPECT_EQ(testkit::read_file(dir_ / "victim"), "precious");
}

TEST_F(FilesTest, ReadingWithLinksRefusedDoesNotFollowThem) {
  testkit::write_file(dir_ / "real", "x");
  fs::create_symlink(dir_ / "real", dir_ / "link");
  EXPECT_EQ(read_regular_file(dir_ / "link"), "x");
  try {
    read_regular_file(dir_ / "link", kMaxConfigFileBytes, Links::kRefuse);
    ADD_FAILURE() << "read through a link";
  } catch (const FileError& e) {
    EXPECT_THAT(e.what(), HasSubstr("symbolic link"));
  }
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

TEST(ReadLastLines, ReturnsLastLines) {
  testkit::TempDir dir;
  std::ofstream(dir / "f") << "one\ntwo\nthree\nfour\n";
  EXPECT_EQ(read_last_lines(dir / "f", 2), "three\nfour");
  EXPECT_EQ(read_last_lines(dir / "f", 10), "one\ntwo\nthree\nfour");
  EXPECT_EQ(read_last_lines(dir / "missing", 2), "");
}

TEST(ReadLastLines, ReadsAtMostMaxBytesOfAGiantLine) {
  testkit::TempDir dir;
  std::ofstream(dir / "f") << "first\n" << std::string(100000, 'x') << "end\n";
  EXPECT_EQ(read_last_lines(dir / "f", 2, 1000), std::string(996, 'x') + "end");
  EXPECT_EQ(read_last_lines(dir / "f", 2), "first\n" + std::string(100000, 'x') + "end");
  EXPECT_EQ(read_last_lines(dir / "f", 0), "");
}

// The cause of a failure is usually its first error line, the rest a traceback.
TEST(FileExcerpt, KeepsTheFirstAndTheLastLines) {
  testkit::TempDir dir;
  {
    std::ofstream f(dir / "f");
    f << "sbatch: error: Socket timed out on send/recv operation\n";
    for (int i = 0; i < 30; ++i) f << "  traceback line " << i << "\n";
    f << "RuntimeError: submission failed\n";
  }
  std::string e = file_excerpt(dir / "f", 3, 4);
  EXPECT_EQ(e.rfind("sbatch: error: Socket timed out on send/recv operation\n", 0), 0u) << e;
  EXPECT_NE(e.find("[... 25 lines left out ...]"), std::string::npos) << e;
  EXPECT_NE(e.find("traceback line 29\nRuntimeError: submission failed"), std::string::npos) << e;
  EXPECT_EQ(e.find("traceback line 10"), std::string::npos) << e;
  // Short files come whole; long lines are cut.
  std::ofstream(dir / "g") << "a\nb\n" << std::string(1000, 'x') << "\n";
  EXPECT_EQ(file_excerpt(dir / "g", 3, 4), "a\nb\n" + std::string(300, 'x') + "...");
  EXPECT_EQ(file_excerpt(dir / "missing", 3, 4), "");
}

TEST(FileExcerpt, BigFilesAreReadOnlyAtBothEnds) {
  testkit::TempDir dir;
  {
    std::ofstream f(dir / "f");
    f << "first cause\n";
    for (int i = 0; i < 100000; ++i) f << "noise " << i << "\n";
    f << "last words\n";
  }
  std::string e = file_excerpt(dir / "f", 1, 1);
  EXPECT_EQ(e, "first cause\n[... lines left out ...]\nlast words");
}

}  // namespace
}  // namespace bp
