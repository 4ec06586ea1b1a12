#include "core/estimate.h"

#include <gtest/gtest.h>

#include "core/scenario.h"
#include "core/system.h"
#include "testkit/testkit.h"

namespace bp {
namespace {

TEST(JudgeMemory, PrunesOnlyClearCases) {
  // 79.6 GiB (an 80 GB H100): pruned above 1.2 x 79.6 = 95.52, near the limit from 63.68.
  MemoryVerdict over = judge_memory(97.3, 79.6, OomRule::kPrune);
  EXPECT_FALSE(over.fits);
  EXPECT_TRUE(over.over);
  EXPECT_FALSE(over.near_limit);
  MemoryVerdict above_but_close = judge_memory(90.0, 79.6, OomRule::kPrune);
  EXPECT_TRUE(above_but_close.fits);
  EXPECT_TRUE(above_but_close.near_limit);
  MemoryVerdict near = judge_memory(64.0, 79.6, OomRule::kPrune);
  EXPECT_TRUE(near.fits);
  EXPECT_TRUE(near.near_limit);
  MemoryVerdict fine = judge_memory(63.0, 79.6, OomRule::kPrune);
  EXPECT_TRUE(fine.fits);
  EXPECT_FALSE(fine.near_limit);
}

TEST(JudgeMemory, WarnAndOffNeverPrune) {
  MemoryVerdict warn = judge_memory(500, 79.6, OomRule::kWarn);
  EXPECT_TRUE(warn.fits);
  EXPECT_TRUE(warn.over);
  EXPECT_TRUE(warn.near_limit);
  MemoryVerdict off = judge_memory(500, 79.6, OomRule::kOff);
  EXPECT_TRUE(off.fits);
  EXPECT_FALSE(off.near_limit);
  EXPECT_TRUE(judge_memory(500, 0, OomRule::kPrune).fits);  // GPU memory unknown
}

TEST(JudgeMemory, ParsesTheRuleAndDescribesTheNumbers) {
  EXPECT_EQ(parse_oom_rule("prune"), OomRule::kPrune);
  EXPECT_EQ(parse_oom_rule("warn"), OomRule::kWarn);
  EXPECT_EQ(parse_oom_rule("off"), OomRule::kOff);
  EXPECT_FALSE(parse_oom_rule("Prune"));
  MemoryEstimate m;
  m.weights = 41.0;
  m.gradients = 20.5;
  m.optimizer = 30.8;
  m.activations = 3.0;
  m.other = 2.0;
  EXPECT_EQ(describe_memory(m, 79.6),
            "needs 97.3 GiB of 79.6 GiB: weights 41.0, gradients 20.5, optimizer 30.8, "
            "activations 3.0, other 2.0");
}

}  // namespace
}  // namespace bp

namespace bp {
namespace {

TEST(FrozenEstimate, RoundTripsThroughTheRunFolder) {
  testkit::TempDir dir;
  FrozenEstimate f;
  f.estimate.estimator_version = "test/1";
  f.estimate.params = {{"tp", Value::integer(4)}, {"compute_dtype", Value::string("fp8_cs")}};
  f.estimate.model_flops_per_token = 1.5e9;
  f.estimate.step_time_s = 2.25;
  f.estimate.gpu_memory_gib = 79.6;
  MemoryEstimate m;
  m.weights = 10;
  m.optimizer = 20.5;
  m.other = 3;
  m.details = {{"cuda_context", 1.0}, {"nccl", 2.0}};
  f.estimate.memory = m;
  f.step_time_factor = 1.2;
  write_frozen_estimate(dir.path(), f);

  std::optional<FrozenEstimate> back = read_frozen_estimate(dir.path());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->estimate.estimator_version, "test/1");
  EXPECT_DOUBLE_EQ(back->step_time_factor, 1.2);
  ASSERT_TRUE(back->calibrated_step_time_s());
  EXPECT_DOUBLE_EQ(*back->calibrated_step_time_s(), 2.25 * 1.2);
  EXPECT_FALSE(back->estimate.tflops_per_gpu);  // absent stays absent
  ASSERT_EQ(back->estimate.params.size(), 2u);
  EXPECT_EQ(back->estimate.params[0].first, "tp");
  EXPECT_EQ(back->estimate.params[0].second.as_int(), 4);
  ASSERT_TRUE(back->estimate.memory);
  EXPECT_DOUBLE_EQ(back->estimate.memory->total(), 33.5);
  ASSERT_EQ(back->estimate.memory->details.size(), 2u);
  EXPECT_EQ(back->estimate.memory->details[1].first, "nccl");
}

// Predicts 2 s for every point of model "m" on an h100.
class FixedEstimator : public Estimator {
 public:
  Estimate estimate(const TestRun&, const System&) const override {
    Estimate e;
    e.estimator_version = "fixed/2";
    e.model = "m";
    e.gpu_type = "h100";
    e.step_time_s = 2.0;
    return e;
  }
};

TEST(FrozenEstimate, FreezingRecordsTheRawPredictionAndTheFactorOfItsVersion) {
  testkit::TempDir dir;
  System system;
  system.name = "cluster";
  TestRun point;
  auto observation = [](const char* system, const char* version, double measured) {
    return Observation{system, "h100", "m", 2.0, measured, version};
  };
  // Runs of this version on this system say the model is 1.5x too fast; another version's run
  // and another system's do not count.
  freeze_estimate(FixedEstimator(), point, system, dir.path(),
                  {observation("cluster", "fixed/2", 3.0), observation("cluster", "fixed/1", 8.0),
                   observation("elsewhere", "fixed/2", 1.0)});
  std::optional<FrozenEstimate> f = read_frozen_estimate(dir.path());
  ASSERT_TRUE(f);
  EXPECT_EQ(f->estimate.estimator_version, "fixed/2");
  EXPECT_DOUBLE_EQ(f->estimate.step_time_s.value_or(0), 2.0);  // raw
  EXPECT_DOUBLE_EQ(f->step_time_factor, 1.5);
  EXPECT_DOUBLE_EQ(f->calibrated_step_time_s().value_or(0), 3.0);
  // Without runs the raw model is what was shown.
  freeze_estimate(FixedEstimator(), point, system, dir.path(), {});
  EXPECT_DOUBLE_EQ(read_frozen_estimate(dir.path())->step_time_factor, 1.0);
}

TEST(FrozenEstimate, AbsentOrDamagedIsNone) {
  testkit::TempDir dir;
  EXPECT_FALSE(read_frozen_estimate(dir.path()));
  testkit::write_file(dir.path() / kFrozenEstimateFile, "step_time_s = [oops");
  EXPECT_FALSE(read_frozen_estimate(dir.path()));
}

}  // namespace
}  // namespace bp
