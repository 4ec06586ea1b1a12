#include "util/checked_math.h"

#include <gtest/gtest.h>

namespace bp {
namespace {

TEST(CheckedMathTest, OverflowIsReportedNotWrapped) {
  EXPECT_EQ(checked_mul(3, 4), 12);
  EXPECT_EQ(checked_mul(INT64_MAX, 2), std::nullopt);
  EXPECT_EQ(checked_mul(INT64_MIN, -1), std::nullopt);
  EXPECT_EQ(checked_add(INT64_MAX, 1), std::nullopt);
  EXPECT_EQ(checked_product({2, 3, 7}), 42);
  // mb = 2^62 times dp = 4 wrapped to 0, which then passed a `!= 0` guard (SIGFPE).
  EXPECT_EQ(checked_product({int64_t{1} << 62, 4, 1}), std::nullopt);
}

TEST(CheckedMathTest, SaturatingMulKeepsTheSign) {
  EXPECT_EQ(saturating_mul(int64_t{1} << 62, 4), INT64_MAX);
  EXPECT_EQ(saturating_mul(-(int64_t{1} << 62), 4), INT64_MIN);
  EXPECT_EQ(saturating_mul(65536, 65536, 65536), int64_t{1} << 48);
  EXPECT_EQ(saturating_mul(int64_t{1} << 40, int64_t{1} << 40, 1), INT64_MAX);
}

}  // namespace
}  // namespace bp
