#include "util/time_format.h"

namespace bp {

std::string format_time(std::time_t t, const char* format, TimeZone zone) {
  std::tm tm{};
  if (zone == TimeZone::kUtc)
    gmtime_r(&t, &tm);
  else
    localtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

}  // namespace bp
