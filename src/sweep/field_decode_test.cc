#include "sweep/field_decode.h"

#include <gtest/gtest.h>

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
