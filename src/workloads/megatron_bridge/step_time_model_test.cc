#include "workloads/megatron_bridge/step_time_model.h"

#include <gtest/gtest.h>

#include <string>

#include "workloads/megatron_bridge/estimate_accuracy_test_helpers.h"
#include "workloads/megatron_bridge/gpu_specs.h"
#include "workloads/megatron_bridge/model_catalog.h"
#include "workloads/megatron_bridge/model_flops.h"

namespace bp {
namespace {

const ModelShape& model(const char* recipe) {
  const ModelShape* m = ModelCatalog::global().find(recipe);
  EXPECT_NE(m, nullptr) << recipe;
  return *m;
}

StepTimeInput llama70b_on_64_h100() {
  StepTimeInput in;
  in.tp = 4;
  in.pp = 8;
  in.vp = 5;
  in.gbs = 256;
  in.seq_length = 8192;
  in.num_gpus = 64;
  in.gpu_type = "h100";
  in.compute_dtype = "fp8_cs";
  return in;
}

TEST(GpuSpecs, KnownTypesAndDtypes) {
  const GpuSpec* h100 = find_gpu_spec("H100");
  ASSERT_NE(h100, nullptr);
  EXPECT_EQ(h100->nvlink_domain, 8);
  EXPECT_NEAR(peak_tflops(*h100, "fp8_cs") / peak_tflops(*h100, "bf16"), 2.0, 0.01);
  EXPECT_DOUBLE_EQ(peak_tflops(*h100, "nvfp4"), peak_tflops(*h100, "fp8_cs"));  // no FP4 units
  EXPECT_EQ(peak_tflops(*h100, "int4"), 0);
  EXPECT_EQ(find_gpu_spec("gb200")->nvlink_domain, 72);
  EXPECT_GT(peak_tflops(*find_gpu_spec("gb300"), "nvfp4"),
            peak_tflops(*find_gpu_spec("gb300"), "fp8_mx"));
  EXPECT_EQ(find_gpu_spec("a100x"), nullptr);
}

TEST(StepTimeModel, PartsAddUpAndThroughputFollowsFromStepTime) {
  const auto e = estimate_step_time(model("llama3_70b"), llama70b_on_64_h100());
  ASSERT_TRUE(e);
  EXPECT_NEAR(e->step_time_s,
              e->compute_s + e->bubble_s + e->tp_comm_s + e->cp_comm_s + e->ep_comm_s +
                  e->dp_reduction_s + e->optimizer_s,
              1e-12 * e->step_time_s);
  EXPECT_GT(e->bubble_s, 0);
  EXPECT_GT(e->tp_comm_s, 0);
  EXPECT_EQ(e->cp_comm_s, 0);
  EXPECT_EQ(e->ep_comm_s, 0);
  EXPECT_NEAR(e->tokens_per_s_per_gpu, 256.0 * 8192 / 64 / e->step_time_s,
              1e-9 * e->tokens_per_s_per_gpu);
  EXPECT_NEAR(e->tflops_per_gpu, e->tokens_per_s_per_gpu * e->model_flops_per_token / 1e12, 1e-9);
}

TEST(StepTimeModel, InterleavingShrinksTheBubble) {
  StepTimeInput in = llama70b_on_64_h100();
  in.vp = 1;
  const auto plain = estimate_step_time(model("llama3_70b"), in);
  in.vp = 5;
  const auto interleaved = estimate_step_time(model("llama3_70b"), in);
  ASSERT_TRUE(plain && interleaved);
  EXPECT_NEAR(plain->bubble_s / interleaved->bubble_s, 5.0, 1e-9);
  EXPECT_LT(interleaved->step_time_s, plain->step_time_s);
}

// Same constants for every call, so only the bandwidths and the domain size differ.
const StepTimeCalibration kPlain{"", "", 0.5, 1.0, 0.0};

TEST(StepTimeModel, ExpertAllToAllSlowsWhenItLeavesTheNvlinkDomain) {
  StepTimeInput in;
  in.ep = 8;
  in.gbs = 1024;
  in.num_gpus = 16;
  in.gpu_type = "h100";
  in.compute_dtype = "fp8_cs";
  const auto inside = estimate_step_time(model("qwen3_30b_a3b"), in, &kPlain);
  in.ep = 16;  // two DGX nodes: half of every all-to-all crosses InfiniBand
  const auto across = estimate_step_time(model("qwen3_30b_a3b"), in, &kPlain);
  ASSERT_TRUE(inside && across);
  EXPECT_GT(across->ep_comm_s, 3 * inside->ep_comm_s);
  in.gpu_type = "gb200";  // NVL72: still one domain, at twice H100's NVLink bandwidth
  const auto nvl72 = estimate_step_time(model("qwen3_30b_a3b"), in, &kPlain);
  ASSERT_TRUE(nvl72);
  EXPECT_LT(nvl72->ep_comm_s, across->ep_comm_s / 4);
}

TEST(StepTimeModel, ContextParallelExchangesKeysAndValues) {
  StepTimeInput in = llama70b_on_64_h100();
  const auto without = estimate_step_time(model("llama3_70b"), in, &kPlain);
  in.cp = 2;
  const auto with = estimate_step_time(model("llama3_70b"), in, &kPlain);
  ASSERT_TRUE(without && with);
  EXPECT_EQ(without->cp_comm_s, 0);
  EXPECT_GT(with->cp_comm_s, 0);
}

TEST(StepTimeModel, UsesMegatronsFlopsCountForTheTpItRuns) {
  StepTimeInput in = llama70b_on_64_h100();
  const auto e = estimate_step_time(model("llama3_70b"), in);
  ASSERT_TRUE(e);
  FlopsSettings fs;
  fs.seq_length = 8192;
  fs.tp = 4;
  EXPECT_DOUBLE_EQ(e->model_flops_per_token, *model_flops_per_token(model("llama3_70b"), fs));
}

TEST(StepTimeModel, CalibrationConstantsMoveTheirParts) {
  StepTimeInput in = llama70b_on_64_h100();
  StepTimeCalibration slow = kPlain, overhead = kPlain;
  slow.gemm_efficiency = 0.25;
  overhead.step_overhead_s = 1.5;
  const auto base = estimate_step_time(model("llama3_70b"), in, &kPlain);
  const auto half = estimate_step_time(model("llama3_70b"), in, &slow);
  const auto fixed = estimate_step_time(model("llama3_70b"), in, &overhead);
  ASSERT_TRUE(base && half && fixed);
  EXPECT_GT(half->compute_s, 1.5 * base->compute_s);  // GEMMs take twice as long
  EXPECT_NEAR(fixed->step_time_s - base->step_time_s, 1.5, 1e-9);
}

TEST(StepTimeModel, FasterDtypeFasterStep) {
  StepTimeInput in = llama70b_on_64_h100();
  in.compute_dtype = "bf16";
  const auto bf16 = estimate_step_time(model("llama3_70b"), in);
  in.compute_dtype = "fp8_cs";
  const auto fp8 = estimate_step_time(model("llama3_70b"), in);
  ASSERT_TRUE(bf16 && fp8);
  EXPECT_LT(fp8->compute_s, bf16->compute_s);
}

TEST(StepTimeModel, NoEstimateForUnknownGpuOrLayoutThatDoesNotDivide) {
  StepTimeInput in = llama70b_on_64_h100();
  in.gpu_type = "tpu";
  EXPECT_FALSE(estimate_step_time(model("llama3_70b"), in));
  in = llama70b_on_64_h100();
  in.num_gpus = 48;  // not a multiple of tp·pp = 32
  EXPECT_FALSE(estimate_step_time(model("llama3_70b"), in));
  in = llama70b_on_64_h100();
  in.gbs = 255;  // not a multiple of mbs · dp = 2
  EXPECT_FALSE(estimate_step_time(model("llama3_70b"), in));
  in = llama70b_on_64_h100();
  in.compute_dtype = "int4";
  EXPECT_FALSE(estimate_step_time(model("llama3_70b"), in));
}

TEST(StepTimeModel, UnlistedDtypeUsesTheGpuTypesBf16Constants) {
  EXPECT_EQ(find_step_time_calibration("h100", "fp8_mx"),
            find_step_time_calibration("h100", "bf16"));
  EXPECT_EQ(find_step_time_calibration("a100x", "bf16"), nullptr);
  EXPECT_EQ(find_step_time_calibration("H100", "FP8_CS"),
            find_step_time_calibration("h100", "fp8_cs"));
  EXPECT_NE(find_step_time_calibration("h100", "fp8_cs"),
            find_step_time_calibration("h100", "bf16"));
}

// Issue 17's done-when on Megatron-Bridge's published pre-training rows (catalog models, every
// release, GPU type and dtype): FLOPs per token within 1.5 % of the table's newest release,
// tokens/s/GPU within 25 % on at least 80 % of the rows, median error at most 12 %.
TEST(StepTimeModel, PublishedPretrainingRows) {
  const std::vector<published::CsvRow> rows = published::read_rows(
      std::string(BENCHPILOT_SOURCE_DIR) + "/tests/data/mbridge_published_pretrain.csv");
  ASSERT_GT(rows.size(), 200u);
  const ModelCatalog& catalog = ModelCatalog::global();
  for (const published::FlopsCheck& c : published::flops_checks(rows, catalog))
    EXPECT_NEAR(c.ours / c.table, 1.0, 0.015) << c.recipe << " " << c.release;
  const published::Accuracy a = published::accuracy(rows, catalog);
  std::printf("%zu rows estimated, %zu not estimated: %.1f %% within 25 %%, median error %.1f %%\n",
              a.rows.size(), a.not_estimated, a.within_25 * 100, a.median_error * 100);
  EXPECT_GE(a.rows.size(), 250u);
  EXPECT_EQ(a.not_estimated, 0u);
  EXPECT_GE(a.within_25, 0.80);
  EXPECT_LE(a.median_error, 0.12);
}

}  // namespace
}  // namespace bp
