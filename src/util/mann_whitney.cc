#include "util/mann_whitney.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace bp {

namespace {

// P(U <= u) under the null for sizes m, n (no ties): counts of rank subsets, by the recurrence
// c(u; m, n) = c(u - n; m - 1, n) + c(u; m, n - 1).
double exact_cdf(int m, int n, int u) {
  // count[i][j][k]: arrangements of i from the first and j from the second sample with U = k.
  const int max_u = m * n;
  std::vector<std::vector<std::vector<double>>> c(
      m + 1, std::vector<std::vector<double>>(n + 1, std::vector<double>(max_u + 1, 0.0)));
  for (int i = 0; i <= m; ++i)
    for (int j = 0; j <= n; ++j) {
      if (i == 0 || j == 0) {
        c[i][j][0] = 1;
        continue;
      }
      for (int k = 0; k <= i * j; ++k) {
        double v = c[i][j - 1][k];
        if (k - j >= 0) v += c[i - 1][j][k - j];
        c[i][j][k] = v;
      }
    }
  double total = 0, below = 0;
  for (int k = 0; k <= max_u; ++k) {
    total += c[m][n][k];
    if (k <= u) below += c[m][n][k];
  }
  return below / total;
}

}  // namespace

RankTestResult mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b) {
  RankTestResult r;
  const size_t m = a.size(), n = b.size();
  if (m == 0 || n == 0) return r;
  std::vector<std::pair<double, int>> all;
  all.reserve(m + n);
  for (double x : a) all.emplace_back(x, 0);
  for (double x : b) all.emplace_back(x, 1);
  std::sort(all.begin(), all.end());
  // Mid-ranks for ties; sum of t^3 - t for the variance correction.
  double rank_sum_a = 0, tie_term = 0;
  bool ties = false;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double mid = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k)
      if (all[k].second == 0) rank_sum_a += mid;
    if (t > 1) {
      ties = true;
      tie_term += t * t * t - t;
    }
    i = j;
  }
  const double dm = static_cast<double>(m), dn = static_cast<double>(n);
  r.u = rank_sum_a - dm * (dm + 1) / 2.0;
  const double mean = dm * dn / 2.0;
  if (!ties && m * n <= 400) {
    r.exact = true;
    const int u_small = static_cast<int>(std::min(r.u, dm * dn - r.u));
    r.p_value = std::min(1.0, 2.0 * exact_cdf(static_cast<int>(m), static_cast<int>(n), u_small));
    return r;
  }
  const double N = dm + dn;
  const double var = dm * dn / 12.0 * ((N + 1) - tie_term / (N * (N - 1)));
  if (var <= 0) return r;                          // every value equal: no evidence of a difference
  const double diff = std::abs(r.u - mean) - 0.5;  // continuity correction
  r.z = std::max(0.0, diff) / std::sqrt(var);
  r.p_value = std::min(1.0, std::erfc(r.z / std::sqrt(2.0)));
  return r;
}

}  // namespace bp
