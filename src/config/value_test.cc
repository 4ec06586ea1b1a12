#include "config/value.h"

#include <gtest/gtest.h>

#include "config/toml_reader.h"

namespace bp {
namespace {

TEST(ValueTest, DeepMergeMergesTablesAndReplacesListsAndScalars) {
  Value base = read_toml_string("a = 1\nlist = [1, 2]\n[t]\nx = 1\ny = 2\n[t.inner]\nk = \"v\"\n",
                                "base.toml");
  Value over = read_toml_string("list = [3]\n[t]\ny = 20\n[t.inner]\nz = true\n", "over.toml");
  deep_merge(base, over);
  EXPECT_EQ(base.find("a")->as_int(), 1);
  ASSERT_EQ(base.find("list")->size(), 1u);
  EXPECT_EQ(base.find("list")->items()[0].as_int(), 3);
  EXPECT_EQ(base.find_path("t.x")->as_int(), 1);
  EXPECT_EQ(base.find_path("t.y")->as_int(), 20);
  EXPECT_EQ(base.find_path("t.inner.k")->as_string(), "v");
  EXPECT_TRUE(base.find_path("t.inner.z")->as_bool());
  EXPECT_EQ(base.find_path("t.missing"), nullptr);
  // The overriding value keeps the location it was written at.
  EXPECT_EQ(base.find_path("t.y")->loc().file, "over.toml");
}

TEST(ValueTest, KeysKeepFileOrderAndSetKeepsPosition) {
  Value v = read_toml_string("zeta = 1\nalpha = 2\nmid = 3\n", "f.toml");
  EXPECT_EQ(v.keys(), (std::vector<std::string>{"zeta", "alpha", "mid"}));
  v.set("alpha", Value::integer(5));
  EXPECT_EQ(v.keys(), (std::vector<std::string>{"zeta", "alpha", "mid"}));
  EXPECT_TRUE(v.erase("zeta"));
  EXPECT_FALSE(v.erase("zeta"));
  EXPECT_EQ(v.find("mid")->loc().line, 3);  // where the key was written
}

TEST(ValueTest, TomlDocumentRoundTrips) {
  const char* text =
      "name = \"x \\\"quoted\\\"\"\nn = 3\nf = 1.5\nb = false\nl = [\"a\", \"b\"]\n"
      "\"dotted.key\" = \"v\"\n[t]\nk = 1\n[[arr]]\ni = 1\n[[arr]]\ni = 2\n";
  Value v = read_toml_string(text, "in.toml");
  Value again = read_toml_string(to_toml_document(v), "out.toml");
  EXPECT_EQ(v, again);
  EXPECT_EQ(again.find("dotted.key")->as_string(), "v");
  EXPECT_EQ(again.find("arr")->items()[1].find("i")->as_int(), 2);
}

TEST(ValueTest, PlainStringsAreWhatACommandLineShows) {
  EXPECT_EQ(Value::boolean(true).to_plain_string(), "true");
  EXPECT_EQ(Value::floating(2.0).to_plain_string(), "2.0");
  EXPECT_EQ(Value::floating(0.1).to_plain_string(), "0.1");
  Value list = read_toml_string("l = [1, 2, 4]", "f.toml");
  EXPECT_EQ(list.find("l")->to_plain_string(), "1,2,4");
  EXPECT_EQ(toml_key("plain_key-1"), "plain_key-1");
  EXPECT_EQ(toml_key("a.b"), "\"a.b\"");
}

TEST(ValueTest, SyntaxErrorsNameFileAndLine) {
  try {
    read_toml_string("a = 1\nb = = 2\n", "broken.toml");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.loc().file, "broken.toml");
    EXPECT_EQ(e.loc().line, 2);
    EXPECT_NE(std::string(e.what()).find("broken.toml:2"), std::string::npos);
  }
}

}  // namespace
}  // namespace bp
