#include "util/exact_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>

namespace bp {
namespace {

// Just enough unsigned big-integer arithmetic for exact sums of doubles: every finite double is
// m * 2^e, so after scaling by the smallest exponent a sum of them is an integer.
class BigUInt {
 public:
  BigUInt() = default;
  explicit BigUInt(uint64_t v) {
    while (v) {
      limbs_.push_back(static_cast<uint32_t>(v));
      v >>= 32;
    }
  }

  bool is_zero() const { return limbs_.empty(); }

  int bit_length() const {
    if (limbs_.empty()) return 0;
    return static_cast<int>(32 * (limbs_.size() - 1)) + (32 - __builtin_clz(limbs_.back()));
  }

  bool bit(int i) const {
    size_t limb = static_cast<size_t>(i) / 32;
    return limb < limbs_.size() && ((limbs_[limb] >> (i % 32)) & 1u);
  }

  // Whether any of the lowest `n` bits is set.
  bool low_bits_nonzero(int n) const {
    for (int i = 0; i < n && static_cast<size_t>(i) / 32 < limbs_.size(); i += 32) {
      uint32_t limb = limbs_[static_cast<size_t>(i) / 32];
      int take = std::min(32, n - i);
      uint32_t mask = take == 32 ? 0xffffffffu : ((1u << take) - 1);
      if (limb & mask) return true;
    }
    return false;
  }

  BigUInt shifted_left(int n) const {
    if (is_zero() || n == 0) return *this;
    BigUInt r;
    size_t whole = static_cast<size_t>(n) / 32;
    int part = n % 32;
    r.limbs_.assign(whole, 0);
    uint32_t carry = 0;
    for (uint32_t limb : limbs_) {
      r.limbs_.push_back(part ? (limb << part) | carry : limb);
      carry = part ? limb >> (32 - part) : 0;
    }
    if (carry) r.limbs_.push_back(carry);
    return r;
  }

  BigUInt shifted_right(int n) const {
    size_t whole = static_cast<size_t>(n) / 32;
    if (whole >= limbs_.size()) return BigUInt();
    int part = n % 32;
    BigUInt r;
    for (size_t i = whole; i < limbs_.size(); ++i) {
      uint64_t hi = i + 1 < limbs_.size() ? limbs_[i + 1] : 0;
      uint64_t two = (hi << 32) | limbs_[i];
      r.limbs_.push_back(static_cast<uint32_t>(two >> part));
    }
    r.trim();
    return r;
  }

  void add(const BigUInt& o) {
    if (limbs_.size() < o.limbs_.size()) limbs_.resize(o.limbs_.size(), 0);
    uint64_t carry = 0;
    for (size_t i = 0; i < limbs_.size(); ++i) {
      uint64_t s = carry + limbs_[i] + (i < o.limbs_.size() ? o.limbs_[i] : 0);
      limbs_[i] = static_cast<uint32_t>(s);
      carry = s >> 32;
    }
    if (carry) limbs_.push_back(static_cast<uint32_t>(carry));
  }

  // *this -= o; requires *this >= o.
  void sub(const BigUInt& o) {
    int64_t borrow = 0;
    for (size_t i = 0; i < limbs_.size(); ++i) {
      int64_t d = static_cast<int64_t>(limbs_[i]) - borrow -
                  (i < o.limbs_.size() ? static_cast<int64_t>(o.limbs_[i]) : 0);
      borrow = d < 0;
      limbs_[i] = static_cast<uint32_t>(d + (borrow << 32));
    }
    trim();
  }

  BigUInt times(const BigUInt& o) const {
    if (is_zero() || o.is_zero()) return BigUInt();
    BigUInt r;
    r.limbs_.assign(limbs_.size() + o.limbs_.size(), 0);
    for (size_t i = 0; i < limbs_.size(); ++i) {
      uint64_t carry = 0;
      for (size_t j = 0; j < o.limbs_.size(); ++j) {
        uint64_t cur = r.limbs_[i + j] + static_cast<uint64_t>(limbs_[i]) * o.limbs_[j] + carry;
        r.limbs_[i + j] = static_cast<uint32_t>(cur);
        carry = cur >> 32;
      }
      r.limbs_[i + o.limbs_.size()] = static_cast<uint32_t>(carry);
    }
    r.trim();
    return r;
  }

  // *this /= d (d < 2^32); returns the remainder.
  uint32_t divide(uint32_t d) {
    uint64_t rem = 0;
    for (size_t i = limbs_.size(); i-- > 0;) {
      uint64_t cur = (rem << 32) | limbs_[i];
      limbs_[i] = static_cast<uint32_t>(cur / d);
      rem = cur % d;
    }
    trim();
    return static_cast<uint32_t>(rem);
  }

  // The value, when it has at most 128 bits.
  unsigned __int128 to_u128() const {
    unsigned __int128 r = 0;
    for (size_t i = std::min<size_t>(limbs_.size(), 4); i-- > 0;) r = (r << 32) | limbs_[i];
    return r;
  }

 private:
  void trim() {
    while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
  }

  std::vector<uint32_t> limbs_;  // little-endian
};

// Rounds q * 2^exp to the nearest double (ties to even). `sticky` says the true value is a bit
// above q * 2^exp (q was truncated). q must have at least 55 bits so the rounding bit is known.
double round_to_double(const BigUInt& q, int64_t exp, bool sticky) {
  int shift = q.bit_length() - 53;
  uint64_t mant = static_cast<uint64_t>(q.shifted_right(shift).to_u128());
  bool round_bit = q.bit(shift - 1);
  bool below = sticky || q.low_bits_nonzero(shift - 1);
  if (round_bit && (below || (mant & 1))) ++mant;  // 2^53 after a carry is still exact
  return std::ldexp(static_cast<double>(mant), static_cast<int>(exp + shift));
}

// Exact sums of the values and of their squares as integers over a common power of two:
// sum = Σ v_i / 2^min_exp, sum_sq = Σ v_i^2 / 2^(2 min_exp). Values are grouped by binary
// exponent first (a log's values share a handful), so each value costs a few 128-bit additions
// instead of a big-integer shift and add.
struct ExactSums {
  BigUInt sum, sum_sq;
  int64_t min_exp = 0;
};

BigUInt big_of(unsigned __int128 v) {
  BigUInt hi(static_cast<uint64_t>(v >> 64));
  BigUInt r = hi.shifted_left(64);
  r.add(BigUInt(static_cast<uint64_t>(v)));
  return r;
}

ExactSums exact_sums(const std::vector<double>& values, bool with_squares) {
  struct Bucket {
    unsigned __int128 sum = 0;    // < 2^85 for up to 2^32 values of 53 bits
    unsigned __int128 sq_lo = 0;  // Σ m^2, low 128 bits
    uint64_t sq_hi = 0;           // and the carries out of them
  };
  std::map<int, Bucket> by_exp;
  Bucket* last = nullptr;
  int last_exp = 0;
  for (double v : values) {
    // v = m * 2^e with m < 2^53: straight from the bits for normal numbers (most values of
    // one log share an exponent: the bucket is looked up again only when it changes).
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    const int biased = static_cast<int>((bits >> 52) & 0x7ff);
    uint64_t m = 0;
    int e = 0;
    if (biased != 0 && biased != 0x7ff) {
      m = (bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1} << 52);
      e = biased - 1075;
    } else if (biased == 0x7ff) {
      // inf, NaN: no finite mantissa. The cast the older code made here was undefined; with g++
      // on x86-64 it gave 0, so these values were skipped, as they are now, by definition.
      continue;
    } else {  // zero, subnormal: exactly as before (frexp)
      double frac = std::frexp(std::fabs(v), &e);  // v = frac * 2^e, frac in [0.5, 1)
      m = static_cast<uint64_t>(std::ldexp(frac, 53));
      e -= 53;
    }
    if (m == 0) continue;
    if (!last || e != last_exp) {
      last = &by_exp[e];
      last_exp = e;
    }
    Bucket& b = *last;
    b.sum += m;
    if (with_squares) {
      const unsigned __int128 m2 = static_cast<unsigned __int128>(m) * m;
      b.sq_lo += m2;
      if (b.sq_lo < m2) ++b.sq_hi;
    }
  }
  ExactSums out;
  if (by_exp.empty()) return out;
  out.min_exp = by_exp.begin()->first;
  for (const auto& [e, b] : by_exp) {
    const int shift = static_cast<int>(e - out.min_exp);
    out.sum.add(big_of(b.sum).shifted_left(shift));
    if (!with_squares) continue;
    BigUInt sq = BigUInt(b.sq_hi).shifted_left(128);
    sq.add(big_of(b.sq_lo));
    out.sum_sq.add(sq.shifted_left(2 * shift));
  }
  return out;
}

// floor(sqrt(x)) for x < 2^126.
unsigned __int128 isqrt(unsigned __int128 x) {
  auto r = static_cast<unsigned __int128>(std::sqrt(static_cast<long double>(x)));
  while (r * r > x) --r;
  while ((r + 1) * (r + 1) <= x) ++r;
  return r;
}

}  // namespace

double exact_mean(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  ExactSums sv = exact_sums(values, false);
  const BigUInt& sum = sv.sum;
  if (sum.is_zero()) return 0.0;
  auto n = static_cast<uint32_t>(values.size());
  // Scale up so the quotient keeps at least 56 bits.
  int n_bits = BigUInt(n).bit_length();
  int k = std::max(0, 56 + n_bits - sum.bit_length());
  BigUInt q = sum.shifted_left(k);
  bool sticky = q.divide(n) != 0;
  return round_to_double(q, sv.min_exp - k, sticky);
}

double exact_pstdev(const std::vector<double>& values) {
  if (values.size() < 2) return 0.0;
  ExactSums sv = exact_sums(values, true);
  const BigUInt& sum = sv.sum;
  const BigUInt& sum_sq = sv.sum_sq;
  auto n = static_cast<uint32_t>(values.size());
  // n^2 * variance = n * sum(x^2) - sum(x)^2, in units of 2^(2 * min_exp).
  BigUInt scaled_var = sum_sq.times(BigUInt(n));
  scaled_var.sub(sum.times(sum));
  if (scaled_var.is_zero()) return 0.0;
  // std = sqrt(scaled_var / n^2) * 2^min_exp. Scale by 4^k so the radicand keeps >= 112 bits.
  int n_bits = BigUInt(n).bit_length();
  int k = std::max(0, (112 + 2 * n_bits - scaled_var.bit_length() + 1) / 2);
  BigUInt radicand = scaled_var.shifted_left(2 * k);
  bool sticky = radicand.divide(n) != 0;
  sticky = (radicand.divide(n) != 0) || sticky;
  // Bring the radicand under 126 bits with an even shift so isqrt fits in 128-bit integers.
  int s = std::max(0, (radicand.bit_length() - 125) / 2);
  sticky = sticky || radicand.low_bits_nonzero(2 * s);
  unsigned __int128 small = radicand.shifted_right(2 * s).to_u128();
  unsigned __int128 root = isqrt(small);
  sticky = sticky || root * root != small;
  BigUInt q(static_cast<uint64_t>(root >> 64));
  q = q.shifted_left(64);
  q.add(BigUInt(static_cast<uint64_t>(root)));
  return round_to_double(q, sv.min_exp - k + s, sticky);
}

double python_median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  if (n % 2 == 1) return values[n / 2];
  return (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace bp
