// The Mann-Whitney U rank test (a.k.a. Wilcoxon rank-sum), for "did this change the step time?"
// without assuming the samples are normal. Used by `compare` and the regression gate.
#pragma once

#include <vector>

namespace bp {

struct RankTestResult {
  double u = 0;        // U of the first sample
  double z = 0;        // normal approximation's statistic (0 for the exact test)
  double p_value = 1;  // two-sided
  bool exact = false;  // exact null distribution (small samples without ties)
};

// Two-sided test of "a and b come from the same distribution". Exact for small samples
// without ties (n_a * n_b <= 400), else the normal approximation with tie and continuity
// corrections. Either sample empty: p = 1.
RankTestResult mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace bp
