#include "workloads/megatron_bridge/pipeline_layout.h"

#include <gtest/gtest.h>

namespace bp {
namespace {

TEST(PipelineLayout, DeepSeekLayouts) {
  PipelineLayout h100 = parse_pipeline_layout("Et|(tt|)*30mL");
  ASSERT_TRUE(h100.ok) << h100.error;
  EXPECT_EQ(h100.stages, 32);
  EXPECT_EQ(h100.decoders, 61);
  EXPECT_EQ(h100.mtp, 1);
  EXPECT_EQ(h100.losses, 1);
  EXPECT_EQ(h100.embeddings, 1);
  EXPECT_TRUE(h100.embedding_in_first_stage);
  EXPECT_TRUE(h100.loss_in_last_stage);
  PipelineLayout gb300 = parse_pipeline_layout("Et*4|(t*4|)*14tmL");
  ASSERT_TRUE(gb300.ok);
  EXPECT_EQ(gb300.stages, 16);
  EXPECT_EQ(gb300.decoders, 61);
}

TEST(PipelineLayout, NestedGroupsAndBlanks) {
  PipelineLayout l = parse_pipeline_layout(" E ((t|)*2 t*2|)*3 L ");
  ASSERT_TRUE(l.ok) << l.error;
  EXPECT_EQ(l.decoders, 12);
  EXPECT_EQ(l.stages, 10);
  EXPECT_TRUE(l.loss_in_last_stage);
}

TEST(PipelineLayout, Misplaced) {
  PipelineLayout l = parse_pipeline_layout("tL|E");
  ASSERT_TRUE(l.ok);
  EXPECT_FALSE(l.embedding_in_first_stage);
  EXPECT_FALSE(l.loss_in_last_stage);
}

TEST(PipelineLayout, Errors) {
  EXPECT_FALSE(parse_pipeline_layout("Et|(tt|*30mL").ok);
  EXPECT_FALSE(parse_pipeline_layout("Etx").ok);
  EXPECT_FALSE(parse_pipeline_layout("t*").ok);
  EXPECT_FALSE(parse_pipeline_layout("").ok);
  EXPECT_FALSE(parse_pipeline_layout("(t*1000)*1000000").ok);
  EXPECT_NE(parse_pipeline_layout("Et)").error.find("position 3"), std::string::npos);
}

}  // namespace
}  // namespace bp
