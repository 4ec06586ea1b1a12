#include "sweep/field_decode.h"

#include <gtest/gtest.h>

#include "config/schema.h"
#include "config/toml_reader.h"

namespace bp {
namespace {

Value v(const std::string& toml) {
  return *read_toml_string("v = " + toml, "f.toml").find("v");
}

TEST(FieldDecode, IntsLikePydantic) {
  EXPECT_EQ(decode_int(v("4"), "k"), 4);
  EXPECT_EQ(decode_int(v("4.0"), "k"), 4);
  EXPECT_EQ(decode_int(v("' 8 '"), "k"), 8);
  EXPECT_THROW(decode_int(v("4.5"), "k"), ConfigError);
  EXPECT_THROW(decode_int(v("'x'"), "k"), ConfigError);
}

// The constraint decoder reads integers by the loaders' rule (lax_int). It used
// to refuse "+2" and to take floats up to 9e18 where the loaders stopped at 9e15.
TEST(FieldDecode, IntsByTheOneRule) {
  for (const char* toml : {"'2'", "'+2'", "2.0", "2.5", "9e15", "9.1e18", "1e19", "'2_000'", "true",
                           "'1e3'", "nan", "[1]"}) {
    const Value value = v(toml);
    const std::optional<int64_t> expected = lax_int(value);
    if (expected)
      EXPECT_EQ(decode_int(value, "k"), *expected) << toml;
    else
      EXPECT_THROW(decode_int(value, "k"), ConfigError) << toml;
  }
  EXPECT_EQ(decode_int(v("'+2'"), "k"), 2);
  EXPECT_EQ(decode_int(v("9.1e18"), "k"), int64_t{9100000000000000000});
  EXPECT_THROW(decode_int(v("1e19"), "k"), ConfigError);
}

TEST(FieldDecode, BoolsLikePydantic) {
  EXPECT_TRUE(decode_bool(v("true"), "k"));
  EXPECT_TRUE(decode_bool(v("'Yes'"), "k"));
  EXPECT_FALSE(decode_bool(v("'off'"), "k"));
  EXPECT_FALSE(decode_bool(v("0"), "k"));
  try {
    decode_bool(v("'maybe'"), "cmd_args.use_megatron_fsdp");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "f.toml:1: cmd_args.use_megatron_fsdp: expected a boolean, got string \"maybe\"");
  }
}

TEST(FieldDecode, NormalizeLikeCloudAi) {
  using L = std::vector<std::string>;
  EXPECT_EQ(normalize_str_list(v("\"['attn', 'MLP']\""), "k"), (L{"attn", "mlp"}));
  EXPECT_EQ(normalize_str_list(v("'moe_router, moe_preprocess'"), "k"),
            (L{"moe_router", "moe_preprocess"}));
  EXPECT_EQ(normalize_str_list(v("['attn', '', 'moe,mlp']"), "k"), (L{"attn", "moe", "mlp"}));
  EXPECT_EQ(normalize_str_list(v("''"), "k"), L{});
  EXPECT_EQ(normalize_str_list(v("[]"), "k"), L{});
}

}  // namespace
}  // namespace bp
