// Exponential backoff: retry pauses and adaptive poll intervals.
#pragma once

#include <chrono>

namespace bp {

// first * 2^step, capped at `cap` (and never below zero). step < 0 counts as 0.
inline std::chrono::milliseconds backoff_delay(int step, std::chrono::milliseconds first,
                                               std::chrono::milliseconds cap) {
  if (first.count() <= 0) return std::chrono::milliseconds(0);
  if (cap < first) return cap.count() < 0 ? std::chrono::milliseconds(0) : cap;
  std::chrono::milliseconds d = first;
  for (int i = 0; i < step && d < cap; ++i) d *= 2;
  return d < cap ? d : cap;
}

}  // namespace bp
