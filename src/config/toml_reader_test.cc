#include "config/toml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bp {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& text) {
  try {
    read_toml_string(text, "x.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// toml++ 3.3.0 runs into __builtin_unreachable() on these (found by fuzz_config_system); they
// are invalid TOML and must be reported as such, on the right line.
TEST(TomlReaderTest, NonAsciiOutsideStringsIsAnErrorNotUndefinedBehaviour) {
  EXPECT_THAT(error_of("\xef\xbb\xaf"), HasSubstr("x.toml:1: invalid TOML: a non-ASCII"));
  EXPECT_THAT(error_of("a = 1\nn\xc3\xa9 = 1\n"), HasSubstr("x.toml:2: invalid TOML"));
  EXPECT_THAT(error_of("a = 1 \xc3\xa9\n"), HasSubstr("x.toml:1: invalid TOML"));
  EXPECT_THAT(error_of("a = \"x\"\xc3\xa9\n"), HasSubstr("x.toml:1: invalid TOML"));
  EXPECT_THAT(error_of("a = \"\"\"x\\\n\n  \xc3\xa9\"\"\"\n"), HasSubstr("x.toml:3: invalid TOML"));
  // A quote inside a bare value does not start a string; toml++ scans on through it.
  EXPECT_THAT(error_of("nama =++'re\xcc\x80'\n"), HasSubstr("x.toml:1: invalid TOML"));
  EXPECT_THAT(error_of("a = 1'\xc3\xa9'\n"), HasSubstr("x.toml:1: invalid TOML"));
  EXPECT_THAT(error_of("e =+++'..'++\xd5\x89\n"), HasSubstr("x.toml:1: invalid TOML"));
  EXPECT_THAT(error_of("am= 0=\"b\xef\xbb\xaf\n"), HasSubstr("x.toml:1: invalid TOML"));
  EXPECT_THAT(error_of("a = \"\"\"x\\\xc3\xa9\"\"\"\n"), HasSubstr("x.toml:1: invalid TOML"));
  EXPECT_THAT(error_of("a = \"\"\"x\\\t \xc3\xa9\"\"\"\n"), HasSubstr("x.toml:1: invalid TOML"));
}

TEST(TomlReaderTest, NonAsciiInStringsAndCommentsIsFine) {
  Value v = read_toml_string(
      "# caf\xc3\xa9\n"
      "a = \"caf\xc3\xa9 \\\" \xc3\xa9\"\n"
      "b = 'caf\xc3\xa9'\n"
      "c = \"\"\"x \"\"caf\xc3\xa9\"\"\"\"\n"
      "d = '''caf\xc3\xa9 '' x'''\n"
      "\"k\xc3\xa9y\" = 1\n"
      "e = \"\"\"line\\\n  more\"\"\"\n"
      "f = [ \"\xc3\xa9\", '\xc3\xa9',\n  \"\xc3\xa9\" ]\n"
      "g = { h = \"\xc3\xa9\", i.'\xc3\xa9' = 1 }\n",
      "x.toml");
  EXPECT_EQ(v.find("a")->as_string(), "caf\xc3\xa9 \" \xc3\xa9");
  EXPECT_EQ(v.find("c")->as_string(), "x \"\"caf\xc3\xa9\"");
  EXPECT_EQ(v.find("d")->as_string(), "caf\xc3\xa9 '' x");
  EXPECT_EQ(v.find("k\xc3\xa9y")->as_int(), 1);
  EXPECT_EQ(v.find("e")->as_string(), "linemore");
}

}  // namespace
}  // namespace bp
