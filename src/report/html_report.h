// report.html of a results folder: every run's status, each sweep's leaderboard by reward,
// heatmaps over two swept axes, pruned points by rule, GPU-hours planned vs spent, and per-step
// charts (from the workloads' report series) of the best and worst passing runs.
//
// The page is assembled as html::Page data (report/html_page.h) and rendered in one place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/run_record.h"
#include "report/html_page.h"
#include "sweep/plan.h"

namespace bp {

struct ReportContext {
  std::string scenario_name;
  std::vector<Plan> plans;               // planned GPU-hours and rule names; may be empty
  std::optional<int64_t> gpus_per_node;  // for GPU counts of node-counted workloads
};

html::Page build_results_page(const std::filesystem::path& root,
                              const std::vector<RunRecord>& records, const ReportContext& ctx);

// Writes <root>/report.html; false (with a warning) when it cannot be written.
bool write_html_report(const std::filesystem::path& root, const std::vector<RunRecord>& records,
                       const ReportContext& ctx);

}  // namespace bp
