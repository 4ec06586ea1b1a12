#include "config/python_repr.h"

#include <gtest/gtest.h>

#include "config/toml_reader.h"

namespace bp {
namespace {

Value v(const std::string& toml) {
  return *read_toml_string("v = " + toml, "t").find("v");
}

TEST(PythonRepr, Scalars) {
  EXPECT_EQ(python_repr(v("true")), "True");
  EXPECT_EQ(python_repr(v("3")), "3");
  EXPECT_EQ(python_repr(v("2.0")), "2.0");
  EXPECT_EQ(python_repr(v("1e-5")), "1e-05");
  EXPECT_EQ(python_repr(v("'attn'")), "'attn'");
  EXPECT_EQ(python_repr(v("\"it's\"")), "\"it's\"");
  EXPECT_EQ(python_repr(v("'''a\"b'c'''")), "'a\"b\\'c'");
  EXPECT_EQ(python_repr(v("\"tab\\there\"")), "'tab\\there'");
  EXPECT_EQ(python_repr(v("'back\\slash'")), "'back\\\\slash'");
  EXPECT_EQ(python_repr(Value()), "None");
}

TEST(PythonRepr, Containers) {
  EXPECT_EQ(python_repr(v("[1, 'a', false]")), "[1, 'a', False]");
  EXPECT_EQ(python_repr(v("{ tp = 2, scope = ['attn'] }")), "{'tp': 2, 'scope': ['attn']}");
}

TEST(Csv, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("{'candidate': 1}"), "{'candidate': 1}");
  EXPECT_EQ(csv_field("{'tp': 2, 'pp': 1}"), "\"{'tp': 2, 'pp': 1}\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  // A bare \r would end the row for readers that accept old Mac line ends (Python's csv does):
  // `history --csv` wrote it unquoted while it had its own quoter.
  EXPECT_EQ(csv_field("carriage\rreturn"), "\"carriage\rreturn\"");
}

}  // namespace
}  // namespace bp
