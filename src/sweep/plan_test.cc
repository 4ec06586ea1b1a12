#include "sweep/plan.h"

#include <gtest/gtest.h>

#include "config/toml_reader.h"
#include "core/estimate.h"
#include "core/workload.h"
#include "sweep/param_space.h"
#include "util/strings.h"

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

TEST(Plan, PredictedJobGpuHoursAreStepsTimesStepTimePlusStartUpTimesGpus) {
  // 50 steps of 2 s and 300 s of start-up on 64 GPUs: 400 s x 64 GPUs.
  EXPECT_DOUBLE_EQ(predicted_job_gpu_hours(50, 2.0, 300, 64), 400.0 / 3600 * 64);
  EXPECT_DOUBLE_EQ(predicted_job_gpu_hours(10, 0.5, 0, 8), 5.0 / 3600 * 8);
  EXPECT_DOUBLE_EQ(predicted_job_gpu_hours(0, 9.0, 3600, 2), 2.0);
}

const Estimator& mb_estimator() {
  const Workload* w = find_workload("MegatronBridge");
  if (!w || !w->info().estimator) throw std::logic_error("MegatronBridge has no estimator");
  return *w->info().estimator;
}

// llama3_8b on 8 H100: tp 1 and 2 run (tp 3 does not divide the GPUs).
TestRun estimated_case(const std::string& extra = "") {
  TestRun run = mb_case(
      "model_family_name = 'llama'\nmodel_recipe_name = 'llama3_8b'\ngpu_type = 'h100'\n"
      "num_gpus = 8\ngb = 128\npp = 1\ncp = 1\nep = 1\ntp = [1, 2, 3]\n" +
      extra);
  run.time_limit = "00:30:00";
  return run;
}

TEST(Plan, PredictedFiguresAreTheEstimatorsForEachRunningPoint) {
  TestRun run = estimated_case("max_steps = 50\n");
  run.iterations = 2;
  PlanEstimation raw;
  Plan p = make_plan(run, System{}, &raw);
  ASSERT_TRUE(p.predicted.has_value());
  const PredictedCost& c = *p.predicted;
  EXPECT_EQ(c.estimated, 2u);
  EXPECT_EQ(c.not_estimated, 0u);
  ASSERT_EQ(c.shown.size(), 2u);
  ParamSpace space = ParamSpace::of(run);
  double one_iteration = 0;
  for (const PlannedPoint& pt : c.shown) {
    std::vector<uint32_t> indices;
    space.decode(pt.step, indices);
    Estimate e = mb_estimator().estimate(apply_indices(run, space, indices), System{});
    ASSERT_TRUE(e.step_time_s && e.memory && e.startup_s) << pt.values;
    EXPECT_DOUBLE_EQ(*pt.step_time_s, *e.step_time_s);
    EXPECT_DOUBLE_EQ(*pt.memory_gib, e.memory->total());
    EXPECT_EQ(pt.train_steps, 50);  // the written max_steps
    EXPECT_EQ(pt.gpus, 8);
    const MemoryVerdict v = judge_memory(e.memory->total(), *e.gpu_memory_gib, OomRule::kPrune);
    EXPECT_EQ(pt.memory_verdict, v.near_limit ? "near limit" : "fits");
    EXPECT_DOUBLE_EQ(*pt.gpu_hours, predicted_job_gpu_hours(50, *e.step_time_s, *e.startup_s, 8));
    one_iteration += *pt.gpu_hours;
  }
  EXPECT_EQ(c.shown[0].values, "tp=1");
  EXPECT_EQ(c.shown[1].values, "tp=2");
  ASSERT_TRUE(c.gpu_hours.has_value());
  EXPECT_DOUBLE_EQ(*c.gpu_hours, 2 * one_iteration);
  EXPECT_FALSE(c.gpu_hours_approximate);
  // The time limits' figure is unchanged: 2 points x 2 iterations x 8 GPUs x 0.5 h.
  EXPECT_DOUBLE_EQ(*p.gpu_hours, 16.0);
  // Asked for nothing, a plan has no prediction.
  EXPECT_FALSE(make_plan(run, System{}).predicted.has_value());
}

TEST(Plan, PreparedEstimatesEqualEachPointEstimatedAlone) {
  // plan estimates through the workload's prepared CaseEstimator: the same figures as
  // Estimator::estimate of each point applied, whatever is swept.
  TestRun run = mb_case(
      "model_family_name = 'llama'\nmodel_recipe_name = 'llama3_8b'\nnum_gpus = 8\ngb = [64, 128]\n"
      "cp = 1\nep = 1\ntp = [1, 2, 4]\npp = [1, 2]\nmb = [1, 2]\nmax_steps = [10, 30]\n"
      "gpu_type = ['h100', 'b200']\ncompute_dtype = ['bf16', 'fp8_cs']\n");
  run.test.oom_rule = OomRule::kWarn;
  PlanEstimation raw;
  Plan p = make_plan(run, System{}, &raw);
  ASSERT_TRUE(p.predicted.has_value());
  ASSERT_GT(p.predicted->shown.size(), 50u);
  ParamSpace space = ParamSpace::of(run);
  for (const PlannedPoint& pt : p.predicted->shown) {
    std::vector<uint32_t> indices;
    space.decode(pt.step, indices);
    Estimate e = mb_estimator().estimate(apply_indices(run, space, indices), System{});
    SCOPED_TRACE(pt.values);
    ASSERT_EQ(pt.step_time_s.has_value(), e.step_time_s.has_value());
    if (e.step_time_s) EXPECT_DOUBLE_EQ(*pt.step_time_s, *e.step_time_s);
    ASSERT_TRUE(pt.memory_gib && e.memory);
    EXPECT_DOUBLE_EQ(*pt.memory_gib, e.memory->total());
    EXPECT_EQ(pt.gpu_memory_gib, e.gpu_memory_gib);
    EXPECT_EQ(pt.train_steps, e.train_steps);
  }
}

TEST(Plan, SaysWhichPointsWouldRunPastTheTimeLimit) {
  TestRun run = estimated_case("max_steps = 50\n");
  PlanEstimation raw;
  raw.calibrate = false;
  Plan p = make_plan(run, System{}, &raw);
  ASSERT_TRUE(p.predicted && p.predicted->shown.size() == 2);
  EXPECT_EQ(p.predicted->past_time_limit, 0u);
  // A limit between the two points' predicted run times: only the longer one is past it.
  const double a = *p.predicted->shown[0].gpu_hours / 8, b = *p.predicted->shown[1].gpu_hours / 8;
  ASSERT_NE(a, b);
  const int seconds = static_cast<int>((a + b) / 2 * 3600);
  char limit[32];
  std::snprintf(limit, sizeof limit, "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60,
                seconds % 60);
  run.time_limit = limit;
  p = make_plan(run, System{}, &raw);
  EXPECT_EQ(p.predicted->past_time_limit, 1u);
  EXPECT_EQ(p.predicted->shown[0].past_time_limit, a > b);
  EXPECT_EQ(p.predicted->shown[1].past_time_limit, b > a);
  EXPECT_NE(format_plan({p}).find("1 point predicted to run longer than the time limit (" +
                                  std::string(limit) +
                                  "): the scheduler would end them before their last step"),
            std::string::npos)
      << format_plan({p});
}

TEST(Plan, StepsDefaultToTheLaunchersDefault) {
  PlanEstimation raw;
  Plan p = make_plan(estimated_case(), System{}, &raw);
  ASSERT_TRUE(p.predicted && !p.predicted->shown.empty());
  EXPECT_EQ(p.predicted->shown[0].train_steps, 10);  // -ms 10, as the launcher is called
}

TEST(Plan, StoredRunsCalibrateTheStepTime) {
  TestRun run = estimated_case();
  System sys;
  sys.name = "cluster";
  PlanEstimation raw;
  Plan before = make_plan(run, sys, &raw);
  ASSERT_TRUE(before.predicted && before.predicted->shown[0].step_time_s);
  const double predicted = *before.predicted->shown[0].step_time_s;
  const Estimate e = mb_estimator().estimate(
      apply_indices(run, ParamSpace::of(run), std::vector<uint32_t>{0}), sys);
  // One finished run there that took twice its prediction.
  PlanEstimation calibrated;
  calibrated.calibration_runs.push_back(
      {"cluster", "h100", "llama3_8b", predicted, 2 * predicted, e.estimator_version});
  Plan after = make_plan(run, sys, &calibrated);
  EXPECT_NEAR(*after.predicted->shown[0].step_time_s, 2 * predicted, 1e-9 * predicted);
  EXPECT_EQ(after.predicted->calibration_runs, 1);
  EXPECT_GT(*after.predicted->gpu_hours, *before.predicted->gpu_hours);
  calibrated.calibrate = false;
  Plan off = make_plan(run, sys, &calibrated);
  EXPECT_DOUBLE_EQ(*off.predicted->shown[0].step_time_s, predicted);
}

TEST(Plan, UnknownShapesAreNotEstimatedAndSaySo) {
  TestRun run = mb_case("model_recipe_name = 'custom'\nnum_gpus = 8\ntp = [1, 2]\n");
  run.time_limit = "01:00:00";
  PlanEstimation raw;
  Plan p = make_plan(run, System{}, &raw);
  ASSERT_TRUE(p.predicted.has_value());
  EXPECT_EQ(p.predicted->estimated, 0u);
  EXPECT_EQ(p.predicted->not_estimated, 2u);
  EXPECT_FALSE(p.predicted->gpu_hours.has_value());
  std::string text = format_plan({p});
  EXPECT_NE(text.find("Predicted in mb_sweep (0 of 2 points that run estimated"), std::string::npos)
      << text;
  EXPECT_NE(text.find("2 points not estimated (\"-\"): counted in the time-limit GPU-hours only"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("16.0 GPU-hours from time limits, 0.0 GPU-hours from predicted run times "
                      "(not estimated, in the time limits only: 2 points of mb_sweep)"),
            std::string::npos)
      << text;
}

TEST(Plan, AnAgentThatPicksGetsTheMeanOfTheValidPoints) {
  TestRun run = estimated_case();
  run.test.agent = "random_search";
  run.test.agent_steps = 1;
  PlanEstimation raw;
  Plan p = make_plan(run, System{}, &raw);
  ASSERT_TRUE(p.predicted.has_value());
  ASSERT_EQ(p.predicted->shown.size(), 2u);  // every valid point may be picked
  const double mean = (*p.predicted->shown[0].gpu_hours + *p.predicted->shown[1].gpu_hours) / 2;
  EXPECT_DOUBLE_EQ(*p.predicted->gpu_hours, mean);
  EXPECT_TRUE(p.predicted->gpu_hours_approximate);
}

TEST(Plan, FormatShowsPredictedPointsAndBothTotals) {
  TestRun run = estimated_case("max_steps = 50\n");
  TestRun plain;
  plain.id = "sleep";
  plain.test.test_template_name = "Sleep";
  plain.time_limit = "01:00:00";
  PlanEstimation raw;
  raw.calibrate = false;
  Plan p = make_plan(run, System{}, &raw);
  std::string text = format_plan({p, make_plan(plain, System{}, &raw)});
  // The first point's row, word by word: step, values, verdict, GiB, of GiB, step s, steps,
  // GPUs, GPU-hours.
  const PlannedPoint& tp1 = p.predicted->shown[0];
  const size_t at = text.find("\n  1     tp=1  ");
  ASSERT_NE(at, std::string::npos) << text;
  std::vector<std::string> words;
  for (const std::string& w : split(text.substr(at + 1, text.find('\n', at + 1) - at - 1), ' '))
    if (!w.empty()) words.push_back(w);
  char memory[32], step_time[32], hours[32];
  std::snprintf(memory, sizeof memory, "%.1f", *tp1.memory_gib);
  std::snprintf(step_time, sizeof step_time, "%.2f", *tp1.step_time_s);
  std::snprintf(hours, sizeof hours, "%.1f", *tp1.gpu_hours);
  std::vector<std::string> expected = {"1", "tp=1"};
  for (const std::string& w : split(tp1.memory_verdict, ' ')) expected.push_back(w);
  for (const char* w :
       std::initializer_list<const char*>{memory, "79.6", step_time, "50", "8", hours})
    expected.push_back(w);
  EXPECT_EQ(words, expected) << text;
  EXPECT_NE(text.find("predicted GPU-hours"), std::string::npos) << text;
  EXPECT_NE(text.find("Predicted in mb_sweep (2 of 2 points that run estimated; step time: the "
                      "raw model (--no-calibration); start-up 300 s per job):"),
            std::string::npos)
      << text;
  char total[256];
  std::snprintf(total, sizeof total,
                "Total: 3 jobs, 9.0 GPU-hours from time limits, %.1f GPU-hours from predicted run "
                "times (not estimated, in the time limits only: every point of sleep)",
                *p.predicted->gpu_hours);
  EXPECT_NE(text.find(total), std::string::npos) << total << "\n" << text;
}

}  // namespace
}  // namespace bp
