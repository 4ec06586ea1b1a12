// The HTML pages of the results store's views, built like report.html (report/html_page.h):
// `compare --html` (two campaigns side by side, regressions marked) and `history --html` (each
// configuration's comparison metric over time, and the runs).
#pragma once

#include <string>
#include <vector>

#include "report/html_page.h"
#include "store/compare.h"
#include "store/store.h"

namespace bp {

// CSS class and visible word of a configuration whose comparison metric got worse.
inline constexpr const char* kRegressionClass = "regression";
inline constexpr const char* kRegressionWord = "REGRESSION";

// a_name / b_name: what the user compared (results folders or campaign ids).
html::Page build_compare_page(const std::string& a_name, const std::string& b_name,
                              const std::vector<ComparedConfig>& configs, const CompareOptions& o);

// runs: as the store returned them (newest first). `filter`: the query, for the subtitle.
html::Page build_history_page(const std::vector<StoredRun>& runs, const std::string& filter);

}  // namespace bp
