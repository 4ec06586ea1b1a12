#include "util/error.h"

namespace bp {

std::string SourceLoc::str() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line);
}

ConfigError::ConfigError(const SourceLoc& loc, const std::string& key_path,
                         const std::string& message)
    : Error(loc.str() + ": " + (key_path.empty() ? "" : key_path + ": ") + message),
      loc_(loc),
      key_path_(key_path),
      message_(message) {}

}  // namespace bp
