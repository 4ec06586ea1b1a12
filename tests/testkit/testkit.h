// The shared test kit (as ninja's src/test.h): what many unit tests need and none should copy.
// Linked into every <area>_tests binary (target bp_testkit), never into benchpilot itself.
// Test doubles live beside this file: fake_command_runner.h, fake_sleep_workload.h.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace bp::testkit {

// A fresh, empty directory under $TMPDIR (mkdtemp, so parallel test processes never share one),
// named after the running test, removed with everything in it when the object goes away. It
// converts to its path, so it stands wherever a std::filesystem::path is expected.
class TempDir {
 public:
  // kOnFailure leaves the directory (and says where) when the running test has failed, for
  // tests whose evidence is files written by other processes (a real cluster's jobs).
  enum class Keep { kNever, kOnFailure };

  // `tag` replaces the test name in the directory's name.
  explicit TempDir(std::string_view tag = "", Keep keep = Keep::kNever);
  explicit TempDir(Keep keep) : TempDir("", keep) {}
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  operator const std::filesystem::path&() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& rel) const { return path_ / rel; }
  std::string string() const { return path_.string(); }

 private:
  std::filesystem::path path_;
  Keep keep_;
};

// Writes `text` to `path` byte for byte, creating missing parent folders; returns `path`.
// Throws std::runtime_error naming the file when it cannot be written, which fails the test.
std::filesystem::path write_file(const std::filesystem::path& path, std::string_view text);

// write_file, then marks the file executable (a script or a command shim the code under test
// runs).
std::filesystem::path write_executable(const std::filesystem::path& path, std::string_view text);

// The whole file, byte for byte; empty when it does not exist (yet), so a test can poll for
// output a child process has still to write.
std::string read_file(const std::filesystem::path& path);

// Sets (or, given nullopt, unsets) one environment variable for the object's lifetime and then
// restores what was there before.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, std::optional<std::string> value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace bp::testkit
