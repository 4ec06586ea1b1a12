#include "config/time_limit.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "util/error.h"
#include "util/strings.h"

namespace bp {
namespace {

// Up to 9 digits keeps every sum far from overflow (a billion weeks is still representable).
std::optional<int64_t> parse_digits(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  int64_t out = 0;
  std::from_chars(s.data(), s.data() + s.size(), out);
  return out;
}

[[noreturn]] void invalid(std::string_view limit) {
  throw ValueError(
      "invalid time limit \"" + std::string(limit) +
      "\": expected Ns, Nm, Nh, Nd or Nw (e.g. \"90m\", \"2d\"), D-HH:MM:SS, HH:MM:SS, "
      "HH:MM (hours:minutes) or N (minutes)");
}

[[noreturn]] void out_of_range(std::string_view limit, const std::string& why) {
  throw ValueError("invalid time limit \"" + std::string(limit) + "\": " + why);
}

// "HH:MM:SS" or "HH:MM" (hours:minutes); nullopt when malformed. Minutes and seconds must be
// below 60 and, after a day count, hours below 24: "99:99:99" is a typo, not 4 days.
std::optional<int64_t> parse_clock(std::string_view s, std::string_view limit, bool after_days) {
  std::vector<std::string> parts = split(s, ':');
  if (parts.size() != 2 && parts.size() != 3) return std::nullopt;
  int64_t scale[] = {3600, 60, 1};
  const char* names[] = {"hours", "minutes", "seconds"};
  int64_t total = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto n = parse_digits(parts[i]);
    if (!n) return std::nullopt;
    if (i > 0 && *n >= 60) out_of_range(limit, std::string(names[i]) + " must be below 60");
    if (i == 0 && after_days && *n >= 24)
      out_of_range(limit, "hours must be below 24 after a day count");
    total += *n * scale[i];
  }
  return total;
}

int64_t capped(std::string_view limit, int64_t seconds) {
  if (seconds > kMaxTimeLimitSeconds)
    out_of_range(limit, "longer than the longest accepted limit, 365 days");
  return seconds;
}

}  // namespace

int64_t time_limit_seconds(std::string_view limit) {
  return capped(limit, time_limit_seconds_uncapped(limit));
}

int64_t time_limit_seconds_uncapped(std::string_view limit) {
  std::string_view s = trim(limit);
  if (s.empty()) invalid(limit);

  char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(s.back())));
  if (std::isalpha(static_cast<unsigned char>(unit))) {
    auto n = parse_digits(s.substr(0, s.size() - 1));
    if (!n) invalid(limit);
    switch (unit) {
      case 's':
        return *n;
      case 'm':
        return *n * 60;
      case 'h':
        return *n * 3600;
      case 'd':
        return *n * 86400;
      case 'w':
        return *n * 7 * 86400;
      default:
        invalid(limit);
    }
  }

  size_t dash = s.find('-');
  if (dash != std::string_view::npos) {
    auto days = parse_digits(s.substr(0, dash));
    std::string_view clock = s.substr(dash + 1);
    // The day form needs all three clock fields, as CloudAI's parser does.
    if (!days || split(clock, ':').size() != 3) invalid(limit);
    auto rest = parse_clock(clock, limit, true);
    if (!rest) invalid(limit);
    return *days * 86400 + *rest;
  }

  if (s.find(':') != std::string_view::npos) {
    auto total = parse_clock(s, limit, false);
    if (!total) invalid(limit);
    return *total;
  }

  auto minutes = parse_digits(s);
  if (!minutes) invalid(limit);
  return *minutes * 60;
}

std::string format_time_limit(int64_t seconds) {
  int64_t days = seconds / 86400;
  int64_t rest = seconds % 86400;
  char buf[64];
  if (days > 0)
    std::snprintf(buf, sizeof buf, "%lld-%02lld:%02lld:%02lld", static_cast<long long>(days),
                  static_cast<long long>(rest / 3600), static_cast<long long>(rest % 3600 / 60),
                  static_cast<long long>(rest % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(rest / 3600),
                  static_cast<long long>(rest % 3600 / 60), static_cast<long long>(rest % 60));
  return buf;
}

std::string normalize_time_limit(std::string_view limit) {
  return format_time_limit(time_limit_seconds(limit));
}

}  // namespace bp
