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

}  // namespace
}  // namespace bp
