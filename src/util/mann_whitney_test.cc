#include "util/mann_whitney.h"

#include <gtest/gtest.h>

#include <random>

namespace bp {
namespace {

TEST(MannWhitneyU, ExactPValueMatchesScipy) {
  // scipy.stats.mannwhitneyu([1,2,3,4,5],[6,7,8,9,10], method="exact") -> U=0, p=0.007937
  RankTestResult r = mann_whitney_u({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_NEAR(r.p_value, 2.0 / 252.0, 1e-12);
  // Interleaved samples: U = 12.5 of 25 is not possible without ties; [1,3,5,7,9] vs
  // [2,4,6,8,10]: U = 10, scipy exact p = 0.6905
  RankTestResult mixed = mann_whitney_u({1, 3, 5, 7, 9}, {2, 4, 6, 8, 10});
  EXPECT_DOUBLE_EQ(mixed.u, 10);
  EXPECT_NEAR(mixed.p_value, 0.690476, 1e-5);
}

TEST(MannWhitneyU, TiesUseTheCorrectedNormalApproximation) {
  // mid-ranks 1,3,3,6 -> U = 3; tie-corrected variance 10.857, z = (5 - 0.5) / 3.295
  RankTestResult r = mann_whitney_u({1, 2, 2, 3}, {2, 3, 3, 4});
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 3);
  EXPECT_NEAR(r.p_value, 0.17203, 1e-4);
}

TEST(MannWhitneyU, IdenticalSamplesShowNoDifference) {
  RankTestResult r = mann_whitney_u({9.2, 9.2, 9.2}, {9.2, 9.2, 9.2});
  EXPECT_DOUBLE_EQ(r.p_value, 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney_u({}, {1.0}).p_value, 1.0);
}

TEST(MannWhitneyU, FalseAlarmRateIsNearAlphaOnSameDistribution) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(10.0, 0.1);
  int alarms = 0;
  const int trials = 2000;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> a(10), b(10);
    for (double& x : a) x = noise(rng);
    for (double& x : b) x = noise(rng);
    alarms += mann_whitney_u(a, b).p_value < 0.05;
  }
  EXPECT_LT(alarms, trials * 0.07);
  EXPECT_GT(alarms, trials * 0.02);
}

}  // namespace
}  // namespace bp
