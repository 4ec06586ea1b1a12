#include "config/python_repr.h"

#include <gtest/gtest.h>

#include "config/toml_reader.h"
#include "testkit/testkit.h"

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

TEST(Csv, ReadsQuotedCommasQuotesAndNewlines) {
  testkit::TempDir d;
  testkit::write_file(d.path() / "a.csv", "a,b\r\n\"x,1\",\"he said \"\"hi\"\"\nok\"\n");
  auto rows = read_csv_file(d.path() / "a.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][0], "x,1");
  EXPECT_EQ(rows[1][1], "he said \"hi\"\nok");
  EXPECT_TRUE(read_csv_file(d.path() / "missing.csv").empty());
}

TEST(Csv, RowEndsAndEmptyFields) {
  // \n, \r\n and a bare \r end a row; blank lines are no rows; "" and a trailing comma are
  // empty fields; the last row needs no line end.
  auto rows = parse_csv("a,b\n\n1,\r2,\"\"\r\n,3\n\"\"\nlast,row");
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", ""}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"2", ""}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"", "3"}));
  EXPECT_EQ(rows[4], (std::vector<std::string>{""}));
  EXPECT_EQ(rows[5], (std::vector<std::string>{"last", "row"}));
}

// What csv_field writes, parse_csv reads back cell for cell, whatever the cells hold.
TEST(Csv, RoundTrip) {
  const std::vector<std::vector<std::string>> rows = {
      {"step", "action", "note"},
      {"1", "{'tp': 2, 'pp': 1}", "say \"hi\""},
      {"2", "two\nlines", "carriage\rreturn"},
      {"3", "", "\"\""},
      {"4", ",", "crlf\r\n"},
  };
  std::string text;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) text += (i ? "," : "") + csv_field(row[i]);
    text += "\n";
  }
  EXPECT_EQ(parse_csv(text), rows);
}

TEST(DictRepr, ReadsScalarsAndQuotes) {
  auto a = parse_python_dict_repr("{'tp': 2, 'scope': 'at\\'tn', 'lr': 0.5, 'fp8': True}");
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].first, "tp");
  EXPECT_EQ(a[0].second.as_int(), 2);
  EXPECT_EQ(a[1].second.as_string(), "at'tn");
  EXPECT_DOUBLE_EQ(a[2].second.as_double(), 0.5);
  EXPECT_TRUE(a[3].second.as_bool());
  auto b = parse_python_dict_repr("{\"it's\": -3, 'neg': -1e-05, 'off': False, 'bare': auto}");
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0].first, "it's");
  EXPECT_EQ(b[0].second.as_int(), -3);
  EXPECT_DOUBLE_EQ(b[1].second.as_double(), -1e-05);
  EXPECT_FALSE(b[2].second.as_bool());
  EXPECT_EQ(b[3].second.as_string(), "auto");
  EXPECT_TRUE(parse_python_dict_repr("{}").empty());
}

TEST(DictRepr, RefusesWhatIsNotADictOfScalars) {
  EXPECT_TRUE(parse_python_dict_repr("{'tp': 2").empty());
  EXPECT_TRUE(parse_python_dict_repr("not a dict").empty());
  EXPECT_TRUE(parse_python_dict_repr("{'tp' 2}").empty());
  EXPECT_TRUE(parse_python_dict_repr("{tp: 2}").empty());
  EXPECT_TRUE(parse_python_dict_repr("{'s': 'unterminated}").empty());
}

// What python_repr writes for a table of scalars, parse_python_dict_repr reads back, whatever
// quotes, backslashes and control characters its strings hold.
TEST(DictRepr, RoundTrip) {
  Value table = Value::table();
  table.set("tp", Value::integer(4));
  table.set("lr", Value::floating(1e-05));
  table.set("fp8", Value::boolean(true));
  table.set("it's", Value::string("say \"hi\""));
  table.set("both", Value::string("it's \"x\""));
  table.set("escapes", Value::string("a\\b\tc\nd\re\x01"
                                     "f\x7f"));
  table.set("utf8", Value::string("d\xc3\xa9j\xc3\xa0"));
  table.set("comma", Value::string("a, b}: c"));
  const std::string repr = python_repr(table);
  const auto pairs = parse_python_dict_repr(repr);
  ASSERT_EQ(pairs.size(), table.size()) << repr;
  for (size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(pairs[i].first, table.keys()[i]) << repr;
    EXPECT_EQ(python_repr(pairs[i].second), python_repr(table.items()[i])) << repr;
  }
  EXPECT_EQ(pairs[6].second.as_string(), "d\xc3\xa9j\xc3\xa0");
  EXPECT_EQ(pairs[5].second.as_string(),
            "a\\b\tc\nd\re\x01"
            "f\x7f");
}

}  // namespace
}  // namespace bp
