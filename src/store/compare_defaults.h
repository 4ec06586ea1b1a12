// The defaults of the comparison verdict (store/compare.h), in a header of their own so the
// command-line options can start from them without including the comparison code.
#pragma once

namespace bp {

inline constexpr double kDefaultMinEffect = 0.02;  // relative change of the metric's median
inline constexpr double kDefaultAlpha = 0.05;      // significance level of the rank test

}  // namespace bp
