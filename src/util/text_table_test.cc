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

}  // namespace
}  // namespace bp
