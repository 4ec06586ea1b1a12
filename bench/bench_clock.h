// Clocks shared by the benchmark programs (bench/*.cc): process CPU time and wall time since a
// point, so every benchmark measures the same way.
#pragma once

#include <sys/resource.h>

#include <chrono>

namespace bench {

using Clock = std::chrono::steady_clock;

// User + system CPU seconds of this process so far.
inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// User CPU seconds of this process so far.
inline double user_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
}

// Wall seconds since `t`.
inline double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace bench
