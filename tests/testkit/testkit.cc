#include "testkit/testkit.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace bp::testkit {

namespace fs = std::filesystem;

namespace {

// "Suite.Name" of the running test, or "" outside one; parameterised names carry '/'.
std::string current_test_name() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (!info) return "";
  return std::string(info->test_suite_name()) + "." + info->name();
}

// Keeps a name usable as one path component and short enough for a Unix socket path below it.
std::string file_name_part(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() == 48) break;
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
    out += plain ? c : '_';
  }
  return out.empty() ? "test" : out;
}

}  // namespace

TempDir::TempDir(std::string_view tag, Keep keep) : keep_(keep) {
  std::string name = file_name_part(tag.empty() ? current_test_name() : tag);
  std::string pattern = (fs::temp_directory_path() / ("bp-" + name + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data()))
    throw std::runtime_error("cannot create a temporary directory " + pattern + ": " +
                             std::strerror(errno));
  path_ = pattern;
}

TempDir::~TempDir() {
  if (keep_ == Keep::kOnFailure && ::testing::Test::HasFailure()) {
    std::fprintf(stderr, "[testkit] kept %s for the failed test\n", path_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
  if (!ec) return;
  // A test that took permissions away (to check an error path) must not leave its files behind.
  for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

fs::path write_file(const fs::path& path, std::string_view text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write test file " + path.string());
  return path;
}

fs::path write_executable(const fs::path& path, std::string_view text) {
  write_file(path, text);
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  return path;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

ScopedEnv::ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
  if (const char* old = ::getenv(name_.c_str())) old_ = old;
  if (value)
    ::setenv(name_.c_str(), value->c_str(), 1);
  else
    ::unsetenv(name_.c_str());
}

ScopedEnv::~ScopedEnv() {
  if (old_)
    ::setenv(name_.c_str(), old_->c_str(), 1);
  else
    ::unsetenv(name_.c_str());
}

}  // namespace bp::testkit
