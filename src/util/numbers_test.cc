#include "util/numbers.h"

#include <gtest/gtest.h>

namespace bp {
namespace {

TEST(NumbersTest, WholeNumbersOnly) {
  EXPECT_EQ(parse_whole_int("-42"), -42);
  EXPECT_FALSE(parse_whole_int("+42"));
  EXPECT_FALSE(parse_whole_int("42 "));
  EXPECT_FALSE(parse_whole_int("9223372036854775808"));
  EXPECT_FALSE(parse_whole_int(""));
  EXPECT_EQ(parse_whole_double("6e+01"), 60.0);
  EXPECT_EQ(parse_whole_double("-0.5"), -0.5);
  EXPECT_FALSE(parse_whole_double("+1"));
  EXPECT_FALSE(parse_whole_double("12x"));
  EXPECT_FALSE(parse_whole_double(""));
}

}  // namespace
}  // namespace bp
