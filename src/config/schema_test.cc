#include "config/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "config/toml_reader.h"

namespace bp {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

const char* kDoc = R"(s = "text"
i = 3
istr = "42"
f = 2.0
frac = 2.5
b = true
list = ["a", "b"]
mixed = ["a", 1]
[t]
x = 1
)";

TEST(SchemaTest, ReadsTypedFields) {
  Value doc = read_toml_string(kDoc, "doc.toml");
  TableFields f(doc, "", "thing");
  EXPECT_EQ(f.required_string("s"), "text");
  EXPECT_EQ(f.string_or("absent", "dflt"), "dflt");
  EXPECT_FALSE(f.optional_string("absent").has_value());
  EXPECT_EQ(f.required_int("i"), 3);
  EXPECT_EQ(f.required_int("istr"), 42);  // pydantic coerces numeric strings
  EXPECT_EQ(f.required_int("f"), 2);      // and integral floats
  EXPECT_EQ(f.int_at_least("absent", 1, 7), 7);
  EXPECT_DOUBLE_EQ(f.number_or("frac", 0), 2.5);
  EXPECT_TRUE(f.bool_or("b", false));
  EXPECT_EQ(f.string_list("list"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(f.string_list("absent").empty());
  ASSERT_NE(f.optional_table("t"), nullptr);
  EXPECT_EQ(f.optional_table("absent"), nullptr);
}

TEST(SchemaTest, ErrorsNameFileLineKeyAndExpectation) {
  Value doc = read_toml_string(kDoc, "doc.toml");
  TableFields f(doc, "top", "thing");
  EXPECT_EQ(error_of([&] { f.required_int("s"); }),
            "doc.toml:1: top.s: expected an integer, got the string \"text\"");
  EXPECT_EQ(error_of([&] { f.required_int("frac"); }),
            "doc.toml:5: top.frac: expected an integer, got float 2.5 (a fractional part, not "
            "finite, or beyond 64 bits)");
  EXPECT_EQ(error_of([&] { f.required_string("i"); }),
            "doc.toml:2: top.i: expected a string, got integer");
  EXPECT_EQ(error_of([&] { f.bool_or("s", false); }),
            "doc.toml:1: top.s: expected true or false, got string");
  EXPECT_EQ(error_of([&] { f.string_list("mixed"); }),
            "doc.toml:8: top.mixed[1]: expected a string, got integer");
  EXPECT_EQ(error_of([&] { f.int_at_least("i", 5, 0); }),
            "doc.toml:2: top.i: expected an integer >= 5, got 3");
  EXPECT_THAT(error_of([&] { f.required_string("nope"); }),
              HasSubstr("top.nope: missing required key 'nope' in thing"));
  EXPECT_THAT(error_of([&] { f.optional_table("s"); }), HasSubstr("expected a table"));
  EXPECT_THAT(error_of([&] { f.optional_array("t"); }), HasSubstr("expected a list"));
}

// One integer rule, pydantic v2's lax int (CloudAI's models), for every reader.
TEST(SchemaTest, LaxIntIsPydanticsRule) {
  auto str = [](const char* s) { return lax_int(Value::string(s)); };
  EXPECT_EQ(str("2"), 2);
  EXPECT_EQ(str("+2"), 2);
  EXPECT_EQ(str(" 2 "), 2);
  EXPECT_EQ(str("-2"), -2);
  EXPECT_EQ(str("042"), 42);
  EXPECT_EQ(str("2_000"), 2000);
  EXPECT_EQ(str("2.0"), 2);
  EXPECT_EQ(str("-1.00"), -1);
  EXPECT_EQ(str("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(str("9223372036854775807"), std::numeric_limits<int64_t>::max());
  for (const char* bad : {"2.5", "1e3", "0x10", "2_", "_2", "2__0", "", " ", "+", "++2", "+-1",
                          "1.", "2.0_0", ".0", "two", "9223372036854775808", "nan"})
    EXPECT_EQ(str(bad), std::nullopt) << '"' << bad << '"';
  EXPECT_EQ(lax_int(Value::floating(2.0)), 2);
  EXPECT_EQ(lax_int(Value::floating(9e15)), 9000000000000000);
  EXPECT_EQ(lax_int(Value::floating(-9223372036854775808.0)), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(lax_int(Value::floating(2.5)), std::nullopt);
  EXPECT_EQ(lax_int(Value::floating(9223372036854775808.0)), std::nullopt);  // 2^63
  EXPECT_EQ(lax_int(Value::floating(std::nan(""))), std::nullopt);
  EXPECT_EQ(lax_int(Value::floating(INFINITY)), std::nullopt);
  EXPECT_EQ(lax_int(Value::boolean(true)), 1);  // pydantic: bool is a lax int
  EXPECT_EQ(lax_int(Value::boolean(false)), 0);
  EXPECT_EQ(lax_int(Value::array()), std::nullopt);
  EXPECT_EQ(lax_int(Value()), std::nullopt);
}

TEST(SchemaTest, FiniteNumbersRefuseNanAndInf) {
  Value doc = read_toml_string("a = nan\nb = -inf\nc = \"inf\"\nd = 1.5\n", "doc.toml");
  EXPECT_EQ(error_of([&] { expect_finite_number(*doc.find("a"), "a"); }),
            "doc.toml:1: a: expected a finite number, got nan (nan and inf cannot be a threshold "
            "or an expected value)");
  EXPECT_THAT(error_of([&] { expect_finite_number(*doc.find("b"), "b"); }),
              HasSubstr("doc.toml:2: b: expected a finite number, got -inf"));
  EXPECT_THAT(error_of([&] { expect_finite_number(*doc.find("c"), "c"); }),
              HasSubstr("doc.toml:3: c: expected a finite number"));
  EXPECT_EQ(expect_finite_number(*doc.find("d"), "d"), 1.5);
}

TEST(SchemaTest, UnknownKeysSuggestClosest) {
  Value doc = read_toml_string("name = 'x'\ninstal_path = '/x'\n", "sys.toml");
  TableFields f(doc, "", "system");
  std::string err = error_of([&] { f.check_keys({"name", "install_path", "output_path"}); });
  EXPECT_THAT(err, HasSubstr("sys.toml:2: instal_path: unknown key 'instal_path' in system"));
  EXPECT_THAT(err, HasSubstr("did you mean 'install_path'?"));
  EXPECT_THAT(err, HasSubstr("allowed keys: 'name', 'install_path', 'output_path'"));
  EXPECT_EQ(error_of([&] { f.check_keys({"name", "instal_path"}); }), "no error");
}

TEST(SchemaTest, ClosestMatchIgnoresFarWords) {
  EXPECT_EQ(closest_match("num_node", {"num_nodes", "nodes"}), "num_nodes");
  EXPECT_EQ(closest_match("Slurm", {"slurm", "standalone"}), "slurm");
  EXPECT_EQ(closest_match("completely_else", {"name", "id"}), "");
}

TEST(SchemaTest, KeyPaths) {
  EXPECT_EQ(join_key_path("", "a"), "a");
  EXPECT_EQ(join_key_path("Tests[1]", "id"), "Tests[1].id");
  EXPECT_EQ(index_key_path("Tests", 2), "Tests[2]");
}

}  // namespace
}  // namespace bp
