#include "config/cmd_args_schema.h"

#include <gtest/gtest.h>

namespace bp {
namespace {

std::vector<ArgSpec> schema() {
  ArgSpec tp;
  tp.name = "tp";
  tp.type = ArgType::kInt;
  tp.flag = "-tp";
  ArgSpec iters;
  iters.name = "iters";
  iters.type = ArgType::kInt;
  iters.default_value = Value::integer(20);
  return {tp, iters};
}

TEST(CmdArgsSchema, NamesInDeclarationOrderAndLookUpByName) {
  const std::vector<ArgSpec> s = schema();
  EXPECT_EQ(arg_names(s), (std::vector<std::string>{"tp", "iters"}));
  ASSERT_NE(find_arg(s, "iters"), nullptr);
  EXPECT_EQ(find_arg(s, "iters")->default_value.as_int(), 20);
  EXPECT_EQ(find_arg(s, "pp"), nullptr);
}

TEST(CmdArgsSchema, WrittenValueElseDefaultElseNothing) {
  const std::vector<ArgSpec> s = schema();
  Value args = Value::table();
  EXPECT_EQ(written_or_default(s[0], args), nullptr);  // no default: not passed
  ASSERT_NE(written_or_default(s[1], args), nullptr);
  EXPECT_EQ(written_or_default(s[1], args)->as_int(), 20);
  args.set("iters", Value::integer(5));
  args.set("tp", Value::integer(2));
  EXPECT_EQ(written_or_default(s[1], args)->as_int(), 5);
  EXPECT_EQ(written_or_default(s[0], args)->as_int(), 2);
}

}  // namespace
}  // namespace bp
