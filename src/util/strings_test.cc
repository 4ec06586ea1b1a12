#include "util/strings.h"

#include <gtest/gtest.h>

#include "util/error.h"

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
  EXPECT_THROW(shell_split("'unterminated"), ValueError);
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

namespace bp {
namespace {

TEST(SafeNameTest, AcceptsPlainNamesOnly) {
  for (const char* ok : {"sleep", "Tests.sleep1", "llama3_8b-sweep", "a", "A.1_b-2"})
    EXPECT_TRUE(is_safe_name(ok)) << ok;
  for (const char* bad : {"", ".", "..", "../x", "a/b", "-rf", ".hidden", "a b", "a\nb",
                          "sc$(touch x)", "a`b`", "a;b", "a'b", "é"})
    EXPECT_FALSE(is_safe_name(bad)) << bad;
  EXPECT_TRUE(is_safe_name(std::string(128, 'a')));
  EXPECT_FALSE(is_safe_name(std::string(129, 'a')));
}

TEST(ShellIdentifierTest, Posix) {
  for (const char* ok : {"A", "_x", "NCCL_DEBUG", "a1"}) EXPECT_TRUE(is_shell_identifier(ok));
  for (const char* bad : {"", "1A", "A=1;touch x;B", "A B", "A-B", "$X"})
    EXPECT_FALSE(is_shell_identifier(bad)) << bad;
}

TEST(ControlCharTest, NewlinesAndEscapes) {
  EXPECT_FALSE(has_control_char("node[1-4] --x=y"));
  EXPECT_TRUE(has_control_char("a\nb"));
  EXPECT_TRUE(has_control_char("a\rb"));
  EXPECT_TRUE(has_control_char(std::string("a\0b", 3)));
  EXPECT_TRUE(has_control_char("\x1b[2J"));
  EXPECT_TRUE(has_control_char("\x7f"));
}

TEST(SanitizeUtf8Test, KeepsValidTextAndReplacesTheRest) {
  EXPECT_EQ(sanitize_utf8("plain"), "plain");
  EXPECT_EQ(sanitize_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(sanitize_utf8("a\xff"
                          "b"),
            "a" + r + "b");
  EXPECT_EQ(sanitize_utf8("\xc3"), r);                          // truncated
  EXPECT_EQ(sanitize_utf8("\xc0\xaf"), r + r);                  // overlong '/'
  EXPECT_EQ(sanitize_utf8("\xed\xa0\x80"), r + r + r);          // UTF-16 surrogate
  EXPECT_EQ(sanitize_utf8("\xf4\x90\x80\x80"), r + r + r + r);  // past U+10FFFF
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string clean = sanitize_utf8(all);
  EXPECT_EQ(sanitize_utf8(clean), clean);  // idempotent: the output is valid
}

}  // namespace
}  // namespace bp
