// Reads TOML files into Value trees. The only place that includes toml++.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

#include "config/value.h"

namespace bp {

// A problem in a config file. what() reads "file:line: key.path: message".
class ConfigError : public std::runtime_error {
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

// Parses a TOML file. Throws ConfigError (with the parser's line) on syntax errors, and on a
// missing or unreadable file (with the reason), one that is not a regular file (a FIFO, a
// device) or one larger than kMaxConfigFileBytes.
Value read_toml_file(const std::filesystem::path& path);
// Parses TOML text; `name` is used in locations and messages.
Value read_toml_string(std::string_view text, const std::string& name);

}  // namespace bp
