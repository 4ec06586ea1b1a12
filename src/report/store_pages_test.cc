#include "report/store_pages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <variant>

namespace bp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

StoredRun run(const std::string& tp, double step_time, const std::string& start,
              const std::string& verdict = "PASSED") {
  StoredRun r;
  r.campaign = "c";
  r.run_dir = "/r/" + tp + "/" + start;
  r.case_id = "mb";
  r.workload = "MegatronBridge";
  r.model = "llama3_8b";
  r.system = "sys";
  r.num_gpus = 8;
  r.start_time = start;
  r.end_time = start;
  r.verdict = verdict;
  r.params = {{"cmd_args.tp", tp}};
  r.metrics = {{"step-time", step_time}, {"tflops-per-gpu", 400 / step_time}};
  for (int i = 0; i < 8; ++i) r.samples["step-time"].push_back(step_time + 0.001 * i);
  return r;
}

template <class T>
const T* find_block(const html::Page& page, const std::string& section) {
  for (const html::Section& s : page.sections)
    if (s.id == section)
      for (const html::Block& b : s.blocks)
        if (const T* t = std::get_if<T>(&b)) return t;
  return nullptr;
}

TEST(ComparePage, SideBySideWithRegressionsMarkedAndEscaped) {
  std::vector<StoredRun> a = {run("1", 2.0, "2026-11-20T10:00:00"),
                              run("2", 1.5, "2026-11-20T10:00:00")};
  std::vector<StoredRun> b = {run("1", 2.5, "2026-11-21T10:00:00"),
                              run("2", 1.5, "2026-11-21T10:00:00")};
  CompareOptions o;
  auto configs = compare_runs(a, b, o);
  ASSERT_EQ(configs.size(), 2u);
  html::Page page = build_compare_page("<a>", "b", configs, o);
  const html::Table* t = find_block<html::Table>(page, "configurations");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0][0].text, "tp=1");
  EXPECT_EQ(t->rows[0][3].text, "2.000");
  EXPECT_EQ(t->rows[0][4].text, "2.500");
  EXPECT_EQ(t->rows[0][8].text, "REGRESSION (slower)");
  EXPECT_EQ(t->rows[0][8].css, kRegressionClass);
  EXPECT_EQ(t->rows[1][8].text, "no change");
  EXPECT_NE(t->rows[1][8].css, kRegressionClass);
  const svg::BarChart* bars = find_block<svg::BarChart>(page, "configurations");
  ASSERT_NE(bars, nullptr);
  EXPECT_EQ(bars->bars.size(), 4u);  // A and B per configuration
  std::string html = html::render_page(page);
  EXPECT_THAT(html, HasSubstr("<td class=\"regression\" title=\"+25.0% (p=0.00016)\">"
                              "REGRESSION (slower)</td>"));
  EXPECT_THAT(html, HasSubstr("td.regression{"));
  EXPECT_THAT(html, Not(HasSubstr("<a>")));
  EXPECT_THAT(html, HasSubstr("&lt;a&gt;"));
}

TEST(HistoryPage, StepTimePerConfigurationOverStartTime) {
  // Newest first, as the store returns them; a failed run is listed but not charted.
  std::vector<StoredRun> runs = {
      run("2", 1.6, "2026-11-20T13:00:00"), run("1", 2.1, "2026-11-20T12:00:00"),
      run("1", 9.0, "2026-11-20T11:30:00", "FAILED"), run("2", 1.5, "2026-11-20T11:00:00"),
      run("1", 2.0, "2026-11-20T10:00:00")};
  html::Page page = build_history_page(runs, "model=llama3_8b");
  EXPECT_THAT(page.subtitle, HasSubstr("5 run(s) - model=llama3_8b"));
  const svg::LineChart* chart = find_block<svg::LineChart>(page, "over-time");
  ASSERT_NE(chart, nullptr);
  EXPECT_EQ(chart->id, "history-step-time");
  EXPECT_EQ(chart->x_label, "hours since 2026-11-20T10:00:00");
  ASSERT_EQ(chart->series.size(), 2u);
  EXPECT_EQ(chart->series[0].name, "tp=1");
  EXPECT_EQ(chart->series[0].x, (std::vector<double>{0, 2}));
  EXPECT_EQ(chart->series[0].y, (std::vector<double>{2.0, 2.1}));
  EXPECT_EQ(chart->series[1].name, "tp=2");
  EXPECT_EQ(chart->series[1].x, (std::vector<double>{1, 3}));
  const html::Table* t = find_block<html::Table>(page, "runs");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), 5u);
  EXPECT_EQ(t->rows[2][7].text, "FAILED");
  EXPECT_EQ(t->rows[2][7].css, "failed");
  EXPECT_EQ(t->rows[0][8].text, "1.600");
}

TEST(HistoryPage, NothingToChartSaysSo) {
  std::vector<StoredRun> runs = {run("1", 2.0, "", "PASSED")};
  runs[0].end_time.clear();
  html::Page page = build_history_page(runs, "");
  EXPECT_EQ(find_block<svg::LineChart>(page, "over-time"), nullptr);
  EXPECT_THAT(html::render_page(page), HasSubstr("no passing run with a compared metric"));
}

}  // namespace
}  // namespace bp
