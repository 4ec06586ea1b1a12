#include "util/strings.h"

#include <gtest/gtest.h>

namespace bp {
namespace {

TEST(StringsTest, ShellQuoteMatchesPythonShlexQuote) {
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("plain-word_1.2/x:y,z=@%+"), "plain-word_1.2/x:y,z=@%+");
  EXPECT_EQ(shell_quote("export K=V"), "'export K=V'");
  EXPECT_EQ(shell_quote("it's"), "'it'\"'\"'s'");
  EXPECT_EQ(shell_quote("gpus-per-node=8;gres=gpu:8"), "'gpus-per-node=8;gres=gpu:8'");
  EXPECT_EQ(shell_quote("$HOME"), "'$HOME'");
}

TEST(StringsTest, ShellSplitMatchesPythonShlexSplit) {
  EXPECT_EQ(
      shell_split("--exclusive --reservation my_reserv --overcommit"),
      (std::vector<std::string>{"--exclusive", "--reservation", "my_reserv", "--overcommit"}));
  EXPECT_EQ(shell_split("a 'b c' \"d \\\"e\\\"\" f\\ g"),
            (std::vector<std::string>{"a", "b c", "d \"e\"", "f g"}));
  EXPECT_EQ(shell_split("  "), std::vector<std::string>{});
  EXPECT_THROW(shell_split("'unterminated"), std::invalid_argument);
}

TEST(StringsTest, PythonFloatRepr) {
  EXPECT_EQ(python_float(1.0), "1.0");
  EXPECT_EQ(python_float(9.09), "9.09");
  EXPECT_EQ(python_float(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(python_float(1e16), "1e+16");
  EXPECT_EQ(python_float(0.0001), "0.0001");
  EXPECT_EQ(python_float(0.00001), "1e-05");
  EXPECT_EQ(python_float(-2.5), "-2.5");
}

TEST(StringsTest, SplitJoinTrimLower) {
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(join({"a", "b"}, ";"), "a;b");
  EXPECT_EQ(trim("  x y \n"), "x y");
  EXPECT_EQ(to_lower("MiXeD"), "mixed");
  EXPECT_TRUE(contains("haystack", "st"));
}

}  // namespace
}  // namespace bp
