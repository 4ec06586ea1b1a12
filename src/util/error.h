// The errors benchpilot reports, in one place and one format. Every error a user can meet is a
// bp::Error whose what() is the whole message the CLI prints: where the problem is first (a file
// and line, a path, a folder), then what was expected or what went wrong.
//
// Broken invariants (a bug in benchpilot, not in the input) stay std::logic_error; Ctrl-C and
// friends are not errors (the engine's Interrupted).
#pragma once

#include <stdexcept>
#include <string>

namespace bp {

// Where a value came from: "file:line", or just "file" when the line is unknown.
struct SourceLoc {
  std::string file;
  int line = 0;  // 1-based; 0 = unknown

  std::string str() const;
};

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A problem in an input file. what() reads "file:line: key.path: message" (no key path: "file:line:
// message").
class ConfigError : public Error {
 public:
  ConfigError(const SourceLoc& loc, const std::string& key_path, const std::string& message);
  const SourceLoc& loc() const { return loc_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& message() const { return message_; }

 private:
  SourceLoc loc_;
  std::string key_path_;
  std::string message_;
};

// Valid CloudAI input that needs something benchpilot does not have (a CloudAI-only workload as
// a dependency): an error for run and dry-run, but verify-configs counts the file apart.
class UnsupportedError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

// A file or folder that could not be read or written; what() says which and why (strerror).
class FileError : public Error {
 public:
  using Error::Error;
};

// An output file named on the command line (--junit, --html) could not be written. The command
// still did its work (runs, journal and summary are kept) and exits kExitOutputFailed.
class OutputError : public FileError {
 public:
  using FileError::FileError;
};

// Exit code for an OutputError (sysexits' EX_IOERR): not 1 (a run or a check failed) and not 75
// (the scheduler stopped answering).
constexpr int kExitOutputFailed = 74;

// A value that is not what was expected, found where the file and key are unknown (a node list,
// a time limit, a shell word). The caller that knows them turns it into a ConfigError.
class ValueError : public Error {
 public:
  using Error::Error;
};

}  // namespace bp
