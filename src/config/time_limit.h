// Slurm time limits as CloudAI accepts them in scenario cases.
//
// Accepted forms (N is a non-negative integer, units are case-insensitive):
//   Ns, Nm, Nh, Nd, Nw   seconds, minutes, hours, days, weeks ("90m", "2d", "1w")
//   D-HH:MM:SS           days-hours:minutes:seconds ("1-12:00:00")
//   HH:MM:SS             hours:minutes:seconds ("00:20:00")
//   HH:MM                hours:minutes, as CloudAI reads it ("12:30" is 12.5 hours)
//   N                    minutes, as Slurm reads a bare number (a benchpilot extension)
// Unlike CloudAI, fields are range-checked: minutes and seconds below 60, hours below 24 after a
// day count ("00:90:00" and "99:99:99" are refused as typos), and the whole limit at most 365
// days.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/error.h"

namespace bp {

// Returns "HH:MM:SS", or "D-HH:MM:SS" when the limit is a day or more ("2d" -> "2-00:00:00").
// Throws ValueError listing the accepted forms.
std::string normalize_time_limit(std::string_view limit);

constexpr int64_t kMaxTimeLimitSeconds = 365LL * 86400;

// Seconds in a limit (any accepted form, normalized or not). Throws ValueError.
int64_t time_limit_seconds(std::string_view limit);
// The same without the 365-day cap (still at most 9 digits per field, so no overflow).
int64_t time_limit_seconds_uncapped(std::string_view limit);

// Formats seconds as normalize_time_limit does.
std::string format_time_limit(int64_t seconds);

}  // namespace bp
