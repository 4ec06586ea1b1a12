#include "core/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace bp {
namespace {

Observation obs(std::string system, std::string model, double predicted, double measured) {
  return {std::move(system), "h100", std::move(model), predicted, measured};
}

TEST(Calibration, NoRunsIsTheRawModel) {
  int runs = -1;
  EXPECT_DOUBLE_EQ(Calibration::fit({}).step_time_factor("s", "h100", "llama3_70b", &runs), 1.0);
  EXPECT_EQ(runs, 0);
}

TEST(Calibration, GeometricMeanOfRatiosOnTheSameSystemAndGpu) {
  Calibration c = Calibration::fit(
      {obs("s", "a", 1.0, 2.0), obs("s", "b", 1.0, 0.5), obs("other", "a", 1.0, 10.0)});
  int runs = 0;
  // Model "c" has no runs on "s": all runs there count (2 x 0.5 -> 1).
  EXPECT_NEAR(c.step_time_factor("s", "h100", "c", &runs), 1.0, 1e-12);
  EXPECT_EQ(runs, 2);
  // Model "a" has one: it alone decides.
  EXPECT_NEAR(c.step_time_factor("s", "h100", "a", &runs), 2.0, 1e-12);
  EXPECT_EQ(runs, 1);
  // Another GPU type on the same system is not corrected.
  EXPECT_DOUBLE_EQ(c.step_time_factor("s", "b200", "a"), 1.0);
}

TEST(Calibration, SkipsUnusableObservations) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  Calibration c = Calibration::fit({obs("s", "a", 0, 2.0), obs("s", "a", 1.0, nan),
                                    obs("s", "a", 1.0, -1), obs("s", "a", 2.0, 3.0)});
  EXPECT_EQ(c.size(), 1);
  EXPECT_NEAR(c.step_time_factor("s", "h100", "a"), 1.5, 1e-12);
}

TEST(Calibration, FitsOnlyTheNamedEstimatorVersion) {
  Observation old_model = obs("s", "a", 1.0, 4.0);
  old_model.estimator_version = "w/1";
  Observation today = obs("s", "a", 1.0, 2.0);
  today.estimator_version = "w/2";
  int runs = 0;
  EXPECT_NEAR(Calibration::fit({old_model, today}, "w/2").step_time_factor("s", "h100", "a", &runs),
              2.0, 1e-12);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(Calibration::fit({old_model, today}, "w/3").size(), 0);
}

// One system's factors, each from the runs of the point's own estimator version and of that
// system only, the same as fitting them by hand; asked again, the same answer.
TEST(SystemCalibration, EachVersionCorrectsItsOwnPointsOnItsSystem) {
  Observation v1 = obs("s", "a", 1.0, 2.0), v2 = obs("s", "a", 1.0, 3.0);
  v1.estimator_version = "w/1";
  v2.estimator_version = "w/2";
  Observation elsewhere = obs("other", "a", 1.0, 10.0);
  elsewhere.estimator_version = "w/2";
  SystemCalibration c({v1, v2, elsewhere}, "s");
  for (int again = 0; again < 2; ++again) {
    SystemCalibration::Factor f = c.factor("w/2", "h100", "a");
    EXPECT_NEAR(f.value, 3.0, 1e-12);
    EXPECT_EQ(f.runs, 1);
    EXPECT_NEAR(c.factor("w/1", "h100", "a").value, 2.0, 1e-12);
  }
  SystemCalibration::Factor none = c.factor("w/3", "h100", "a");
  EXPECT_DOUBLE_EQ(none.value, 1.0);
  EXPECT_EQ(none.runs, 0);
  EXPECT_DOUBLE_EQ(c.factor("w/2", "b200", "a").value, 1.0);
}

TEST(LeaveOneOutAccuracy, EachRunIsJudgedByTheOthers) {
  // The raw model is 2x too fast on "s" for model "a" (and exactly 2x: calibration removes it),
  // right for model "b" on "t".
  std::vector<Observation> runs = {obs("s", "a", 1.0, 2.0), obs("s", "a", 2.0, 4.0),
                                   obs("s", "a", 3.0, 6.6), obs("t", "b", 1.0, 1.0)};
  std::vector<AccuracyRow> rows = leave_one_out_accuracy(runs);
  ASSERT_EQ(rows.size(), 2u);
  const AccuracyRow& a = rows[0];
  EXPECT_EQ(a.system, "s");
  EXPECT_EQ(a.model, "a");
  EXPECT_EQ(a.gpu_type, "h100");
  EXPECT_EQ(a.runs, 3);
  // Raw errors: |1/2 - 1| = 0.5 twice, |3/6.6 - 1| = 0.5454...
  EXPECT_NEAR(a.raw_median_error, 0.5, 1e-12);
  EXPECT_NEAR(a.raw_worst_error, 1 - 3 / 6.6, 1e-12);
  // Leave-one-out: run 1 is corrected by sqrt(2 x 2.2) (runs 2 and 3), run 3 by 2 (runs 1, 2).
  const double f1 = std::sqrt(2.0 * 2.2);
  EXPECT_NEAR(a.worst_error, std::abs(3.0 * 2.0 / 6.6 - 1), 1e-12);
  EXPECT_NEAR(a.median_error, std::abs(1.0 * f1 / 2.0 - 1), 1e-12);
  EXPECT_LT(a.median_error, a.raw_median_error);
  // A run alone on its system has no other run there: judged by the raw model.
  const AccuracyRow& b = rows[1];
  EXPECT_EQ(b.system, "t");
  EXPECT_EQ(b.runs, 1);
  EXPECT_DOUBLE_EQ(b.median_error, 0.0);
  EXPECT_DOUBLE_EQ(b.raw_worst_error, 0.0);
}

TEST(LeaveOneOutAccuracy, RunAloneIsNotCorrectedByItself) {
  // With the run in its own calibration the error would be 0; left out, it stays the raw one.
  std::vector<AccuracyRow> rows = leave_one_out_accuracy({obs("s", "a", 1.0, 3.0)});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NEAR(rows[0].median_error, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(rows[0].worst_error, rows[0].raw_worst_error, 1e-12);
}

TEST(LeaveOneOutAccuracy, VersionsAreJudgedApart) {
  Observation v1 = obs("s", "a", 1.0, 2.0), v2 = obs("s", "a", 1.0, 1.0);
  v1.estimator_version = "w/1";
  v2.estimator_version = "w/2";
  Observation v2b = v2;
  v2b.measured_step_time_s = 1.1;
  std::vector<AccuracyRow> rows = leave_one_out_accuracy({v1, v2, v2b});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].estimator_version, "w/1");
  EXPECT_NEAR(rows[0].median_error, 0.5, 1e-12);  // no other w/1 run: raw
  EXPECT_EQ(rows[1].estimator_version, "w/2");
  EXPECT_EQ(rows[1].runs, 2);
  // Each w/2 run is corrected by the other (the w/1 run is 2x off and must not count).
  EXPECT_NEAR(rows[1].worst_error, std::abs(1.1 / 1.0 - 1), 1e-12);
}

}  // namespace
}  // namespace bp
