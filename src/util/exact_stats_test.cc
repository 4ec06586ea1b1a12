#include "util/exact_stats.h"

#include <gtest/gtest.h>

#include "util/strings.h"

namespace bp {
namespace {

// Expected strings are what Python 3.11's statistics.mean/median/pstdev print for these lists.
struct Case {
  std::vector<double> values;
  const char* mean;
  const char* median;
  const char* pstdev;
};

TEST(ExactStats, MatchesPythonStatistics) {
  const std::vector<Case> cases = {
      {{9.09, 9.1, 9.11}, "9.1", "9.1", "0.008164965809277086"},
      {{1.0, 2.0, 3.0, 4.0}, "2.5", "2.5", "1.118033988749895"},
      // A naive double sum gives 0.20000000000000004 here.
      {{0.1, 0.2, 0.3}, "0.2", "0.2", "0.0816496580927726"},
      // ... and 663.4300000000001 here.
      {{663.5, 663.4, 662.9, 664.1, 663.0, 663.5, 663.2, 663.3, 663.8, 663.6},
       "663.43",
       "663.45",
       "0.3407345007480195"},
      {{0.001, 1e5, 3.3}, "33334.433666666664", "3.3", "47139.67404518124"},
      {{5.0}, "5.0", "5.0", "0.0"},
      {{2.5, 2.5}, "2.5", "2.5", "0.0"},
      {{1e300, 1e-300}, "5e+299", "5e+299", "5e+299"},
      {{0.0, 0.0}, "0.0", "0.0", "0.0"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(python_float(exact_mean(c.values)), c.mean);
    EXPECT_EQ(python_float(python_median(c.values)), c.median);
    EXPECT_EQ(python_float(exact_pstdev(c.values)), c.pstdev);
  }
}

TEST(ExactStats, ManyValuesOverSeveralExponentsMatchPython) {
  // The sums are grouped by binary exponent: values spread over exponents, and a long run of
  // equal ones (a log's million steps), still give Python's results to the last bit.
  EXPECT_EQ(exact_mean({0.1, 1e10, 3.0, 2.5e-3, 7.75}), 2000000002.1705);
  EXPECT_EQ(exact_pstdev({0.1, 1e10, 3.0, 2.5e-3, 7.75}), 3999999998.91475);
  std::vector<double> many(100000, 0.1);
  many.insert(many.end(), 3, 0.30000000000000004);
  EXPECT_EQ(exact_mean(many), 0.10000599982000541);
  EXPECT_EQ(exact_pstdev(many), 0.001095412252642753);
}

TEST(ExactStats, EmptyInput) {
  EXPECT_EQ(exact_mean({}), 0.0);
  EXPECT_EQ(exact_pstdev({}), 0.0);
  EXPECT_EQ(python_median({}), 0.0);
}

}  // namespace
}  // namespace bp
