#include "util/text_table.h"

#include <gtest/gtest.h>

namespace bp {
namespace {

TEST(TextTableTest, PadsColumnsToTheWidestCellAndUnderlinesTheHeader) {
  EXPECT_EQ(format_text_table({{"run", "status"}, {"gpt/1/12", "PASSED"}, {"a/2", "FAILED"}}),
            "run       status\n"
            "----------------\n"
            "gpt/1/12  PASSED\n"
            "a/2       FAILED\n");
}

TEST(TextTableTest, UnderlineIsAsLongAsTheHeaderNotTheWidestLastCell) {
  EXPECT_EQ(format_text_table({{"a", "b"}, {"x", "longer"}}),
            "a  b\n"
            "----\n"
            "x  longer\n");
}

TEST(TextTableTest, NoRowsNoText) { EXPECT_EQ(format_text_table({}), ""); }

TEST(TextTableTest, TableWidthRuleSpansTheWidestLastCell) {
  TextTableStyle style;
  style.header_rule = TextTableStyle::HeaderRule::kTableWidth;
  EXPECT_EQ(format_text_table({{"a", "b"}, {"x", "longer"}}, style),
            "a  b\n"
            "---------\n"
            "x  longer\n");
}

TEST(TextTableTest, RightAlignedColumnsArePaddedOnTheLeftWithoutARule) {
  TextTableStyle style;
  style.header_rule = TextTableStyle::HeaderRule::kNone;
  style.right_aligned_from = 1;
  EXPECT_EQ(format_text_table({{"case", "jobs"}, {"gpt", "12345"}, {"a", "7"}}, style),
            "case   jobs\n"
            "gpt   12345\n"
            "a         7\n");
}

TEST(TextTableTest, TrimmedLinesEndWithoutTheBlanksOfAnEmptyLastCell) {
  TextTableStyle style;
  style.header_rule = TextTableStyle::HeaderRule::kNone;
  style.trim_line_ends = true;
  EXPECT_EQ(format_text_table({{"step", "pruned"}, {"12", ""}}, style),
            "step  pruned\n"
            "12\n");
}

}  // namespace
}  // namespace bp
