// Overflow-checked integer arithmetic for numbers that come from users (config values, sweep
// sizes). Signed overflow is undefined behaviour: a compiler may remove a later `!= 0` guard, as
// happened with mb = 2^62 in a constraint rule (SIGFPE). nullopt means "does not fit".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>

namespace bp {

inline std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

inline std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// The product of all factors, or nullopt when any partial product overflows.
inline std::optional<int64_t> checked_product(std::initializer_list<int64_t> factors) {
  int64_t out = 1;
  for (int64_t f : factors)
    if (__builtin_mul_overflow(out, f, &out)) return std::nullopt;
  return out;
}

// a * b, or INT64_MAX / INT64_MIN (by the sign of the true result) when it does not fit: a
// divisor that large divides nothing a user can write, which is what rules need.
inline int64_t saturating_mul(int64_t a, int64_t b) {
  int64_t out;
  if (!__builtin_mul_overflow(a, b, &out)) return out;
  return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
}

inline int64_t saturating_mul(int64_t a, int64_t b, int64_t c) {
  return saturating_mul(saturating_mul(a, b), c);
}

}  // namespace bp
