// Formats a point in time with strftime, in local time or UTC: the one formatter behind results
// folder names, journal headers, report subtitles and stored start/end times.
#pragma once

#include <ctime>
#include <string>

namespace bp {

enum class TimeZone { kLocal, kUtc };

// `format` is a strftime format whose result fits 63 characters.
std::string format_time(std::time_t t, const char* format, TimeZone zone = TimeZone::kLocal);

}  // namespace bp
