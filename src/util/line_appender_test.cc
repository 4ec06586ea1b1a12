#include "util/line_appender.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "testkit/testkit.h"
#include "util/files.h"

namespace bp {
namespace {
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(LineAppender, OnlyWholeLinesReachTheFile) {
  testkit::TempDir dir;
  const fs::path p = dir.path() / "lines.csv";
  {
    LineAppender out(p);
    out.set_buffer_bytes(1 << 20);
    out.append("step,value\n1,");
    out.flush();
    EXPECT_EQ(slurp(p), "step,value\n") << "half a row is never written";
    out.append("2.5\n2,3");
    EXPECT_EQ(slurp(p), "step,value\n") << "buffered below the limit";
    out.flush();
    EXPECT_EQ(slurp(p), "step,value\n1,2.5\n");
    out.append(".5\n");
  }
  EXPECT_EQ(slurp(p), "step,value\n1,2.5\n2,3.5\n") << "the destructor flushes";
}

TEST(LineAppender, FullDiskIsAnErrorNamingTheCause) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  LineAppender out("/dev/full");
  out.set_buffer_bytes(1 << 20);
  out.append("a,b\n");
  try {
    out.flush();
    FAIL() << "expected FileError";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/dev/full"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bp
