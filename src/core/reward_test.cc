#include "core/reward.h"

#include <gtest/gtest.h>

namespace bp {
namespace {

TEST(RewardTest, EmptyRewardFunctionMeansTheDefault) {
  const std::map<std::string, double> metrics = {{"default", 4.0}};
  EXPECT_EQ(run_reward({}, "", metrics), run_reward({}, kDefaultRewardFunction, metrics));
  EXPECT_EQ(run_reward({}, "", metrics), 0.25);
}

TEST(RewardTest, BestRunIsTheHighestRewardAndTheFirstOfEquals) {
  EXPECT_TRUE(beats_best_run(-5.0, std::nullopt));
  EXPECT_TRUE(beats_best_run(2.0, 1.0));
  EXPECT_FALSE(beats_best_run(1.0, 1.0));
  EXPECT_FALSE(beats_best_run(0.5, 1.0));
}

}  // namespace
}  // namespace bp
