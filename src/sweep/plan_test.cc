#include "sweep/plan.h"

#include <gtest/gtest.h>

#include "config/toml_reader.h"

namespace bp {
namespace {

TestRun mb_case(const std::string& cmd_args) {
  TestRun run;
  run.id = "mb_sweep";
  run.test.name = "mb";
  run.test.test_template_name = "MegatronBridge";
  run.test.cmd_args = read_toml_string(cmd_args, "mb.toml");
  return run;
}

TEST(Plan, TimeLimits) {
  EXPECT_DOUBLE_EQ(*time_limit_hours("00:30:00"), 0.5);
  EXPECT_DOUBLE_EQ(*time_limit_hours("1-02:00:00"), 26.0);
  EXPECT_DOUBLE_EQ(*time_limit_hours("00:00:36"), 0.01);
  EXPECT_FALSE(time_limit_hours("soon").has_value());
  EXPECT_FALSE(time_limit_hours("10:00").has_value());
}

TEST(Plan, SweepCountsPrunedJobsAndGpuHours) {
  TestRun run =
      mb_case("model_recipe_name = 'llama3_8b'\nnum_gpus = 8\ntp = [1, 2, 3]\npp = [1, 3]\n");
  run.time_limit = "00:30:00";
  run.iterations = 2;
  Plan p = make_plan(run, System{});
  EXPECT_TRUE(p.is_sweep);
  EXPECT_EQ(p.agent, "grid_search");
  EXPECT_EQ(p.points, 6u);
  EXPECT_EQ(p.valid, 2u);
  EXPECT_EQ(p.pruned, 4u);
  EXPECT_EQ(p.jobs, 4u);  // 2 valid points x 2 iterations
  EXPECT_EQ(p.gpus_per_job_min, 8);
  EXPECT_EQ(p.gpus_per_job_max, 8);
  ASSERT_TRUE(p.gpu_hours.has_value());
  EXPECT_DOUBLE_EQ(*p.gpu_hours, 4 * 8 * 0.5);
  ASSERT_FALSE(p.pruned_by_rule.empty());
  EXPECT_EQ(p.pruned_by_rule[0].id, "C1");
  EXPECT_EQ(p.pruned_by_rule[0].count, 4u);
  EXPECT_EQ(p.pruned_by_rule[0].examples.size(), 3u);
  EXPECT_EQ(p.pruned_by_rule[0].examples[0],
            "step 2: tp=1 pp=3: num_gpus=8 is not divisible by tp*pp*cp=3 (tp=1 pp=3 cp=1)");
}

TEST(Plan, SweptGpuCountsAndAgentBudget) {
  TestRun run = mb_case("model_recipe_name = 'custom'\nnum_gpus = [8, 16]\ntp = [1, 2]\n");
  run.time_limit = "01:00:00";
  Plan grid = make_plan(run, System{});
  EXPECT_EQ(grid.gpus_per_job_min, 8);
  EXPECT_EQ(grid.gpus_per_job_max, 16);
  EXPECT_DOUBLE_EQ(*grid.gpu_hours, 8 + 8 + 16 + 16);
  run.test.agent = "random_search";
  run.test.agent_steps = 2;
  Plan random = make_plan(run, System{});
  EXPECT_EQ(random.jobs, 2u);
  EXPECT_TRUE(random.gpu_hours_estimated);
  EXPECT_DOUBLE_EQ(*random.gpu_hours, 2 * 12.0);
  EXPECT_EQ(random.budget_note, "agent_steps=2");
}

TEST(Plan, PlainCaseUsesNodesTimesGpusPerNode) {
  TestRun run;
  run.id = "sleep";
  run.test.test_template_name = "Sleep";
  run.num_nodes = {2};
  run.iterations = 3;
  System sys;
  sys.gpus_per_node = 4;
  Plan p = make_plan(run, sys);
  EXPECT_FALSE(p.is_sweep);
  EXPECT_EQ(p.jobs, 3u);
  EXPECT_EQ(p.gpus_per_job_min, 8);
  EXPECT_FALSE(p.gpu_hours.has_value());
}

TEST(Plan, FormatShowsTableRulesAndTotals) {
  TestRun run =
      mb_case("model_recipe_name = 'llama3_8b'\nnum_gpus = 8\ntp = [1, 2, 3]\npp = [1, 3]\n");
  run.time_limit = "00:30:00";
  TestRun plain;
  plain.id = "sleep";
  plain.test.test_template_name = "Sleep";
  std::string text = format_plan({make_plan(run, System{}), make_plan(plain, System{})});
  EXPECT_NE(
      text.find(
          "case      agent        points  valid  pruned  jobs  GPUs/job  time limit  GPU-hours"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          "mb_sweep  grid_search       6      2       4     2         8    00:30:00        8.0"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("Pruned in mb_sweep (4 of 6 points"), std::string::npos) << text;
  EXPECT_NE(text.find("  C1 tp*pp*cp divides num_gpus"), std::string::npos) << text;
  EXPECT_NE(text.find("e.g. step 2: tp=1 pp=3:"), std::string::npos) << text;
  EXPECT_NE(
      text.find("Total: 3 jobs, 8.0 GPU-hours (unknown for cases without a time limit: sleep)"),
      std::string::npos)
      << text;
}

}  // namespace
}  // namespace bp
