// Summary statistics that give the same doubles as Python's `statistics` module.
//
// Python computes mean and pstdev with exact rational arithmetic and rounds once at the end, so
// a naive double sum can differ in the last digit (and then in the printed repr). Reports that
// must match CloudAI byte for byte use these.
#pragma once

#include <vector>

namespace bp {

// statistics.mean: the exact mean, correctly rounded. Values must be finite and >= 0 (what log
// parsers produce). Returns 0.0 for an empty input.
double exact_mean(const std::vector<double>& values);

// statistics.pstdev: the square root of the exact population variance, correctly rounded.
// Same input rules as exact_mean. Returns 0.0 for fewer than two values.
double exact_pstdev(const std::vector<double>& values);

// statistics.median: the middle value, or (a + b) / 2 in double arithmetic for an even count.
// Returns 0.0 for an empty input.
double python_median(std::vector<double> values);

}  // namespace bp
