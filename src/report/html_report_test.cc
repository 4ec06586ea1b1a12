#include "report/html_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "report/html_page.h"
#include "report/junit.h"
#include "report/results_data.h"
#include "report/summary.h"
#include "report/svg_chart.h"
#include "testkit/job_records.h"
#include "testkit/testkit.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testkit::TempDir;
using testkit::write_file;

constexpr const char* kHostile = "<script>alert('x')</script>&\"quoted\"";

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

TEST(HtmlEscape, EscapesMarkupQuotesAndDropsControlCharacters) {
  EXPECT_EQ(html::escape("a<b>&\"c'\x01\n"), "a&lt;b&gt;&amp;&quot;c&#39;\n");
}

TEST(HtmlPage, EveryUserStringIsEscaped) {
  html::Page page;
  page.title = kHostile;
  html::Section s{"sec", kHostile, {}};
  html::Table t;
  t.id = "t";
  t.header = {kHostile};
  html::Cell c;
  c.text = kHostile;
  c.href = "javascript:\"x";
  c.links.emplace_back(kHostile, "a\"b");
  t.rows.push_back({c});
  s.blocks.push_back(t);
  svg::LineChart chart;
  chart.id = "chart";
  chart.title = kHostile;
  chart.series.push_back({kHostile, {1, 2}, {3, 4}});
  s.blocks.push_back(chart);
  s.blocks.push_back(html::Preformatted{kHostile, kHostile});
  page.sections.push_back(s);
  std::string out = html::render_page(page);
  EXPECT_THAT(out, Not(HasSubstr("<script")));
  EXPECT_THAT(out, Not(HasSubstr("\"x\"")));
  EXPECT_THAT(out,
              HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;quoted&quot;"));
  EXPECT_THAT(out, HasSubstr("href=\"a&quot;b\""));
  // No resource is loaded from anywhere.
  EXPECT_THAT(out, Not(HasSubstr("src=")));
  EXPECT_THAT(out, Not(HasSubstr("http://www.w3.org/1999")));
  EXPECT_THAT(out, HasSubstr("default-src 'none'"));
}

TEST(SvgChart, LineChartDrawsOnePolylinePerSeriesAndLogTicksAsBytes) {
  svg::LineChart c;
  c.id = "bw";
  c.title = "bus bandwidth";
  c.log_x = true;
  c.series.push_back({"a", {1024, 2048, 1048576}, {1, 2, 30}});
  c.series.push_back({"b", {1024, 2048}, {2, 3}});
  std::string out = svg::render(c);
  EXPECT_EQ(count(out, "<polyline"), 2u);
  EXPECT_EQ(count(out, "<circle"), 5u);
  EXPECT_THAT(out, HasSubstr(">1K<"));
  EXPECT_THAT(out, HasSubstr(">1M<"));
  EXPECT_THAT(out, HasSubstr("id=\"bw\""));
}

// The points of the first polyline of an SVG text.
std::vector<std::string> polyline_points(const std::string& svg) {
  const std::string tag = "points=\"";
  size_t at = svg.find(tag);
  std::vector<std::string> out;
  if (at == std::string::npos) return out;
  at += tag.size();
  std::string list = svg.substr(at, svg.find('"', at) - at);
  for (size_t start = 0, sp; (sp = list.find(' ', start)) != std::string::npos; start = sp + 1)
    out.push_back(list.substr(start, sp - start));
  return out;
}

TEST(SvgChart, AMillionStepLineKeepsEachPixelColumnsExtremes) {
  svg::LineChart c;
  svg::Series big{"run", {}, {}};
  for (int i = 0; i < 1000000; ++i) {
    big.x.push_back(i + 1);
    big.y.push_back(i == 500000 ? 50.0 : i == 700000 ? -40.0 : (i % 2 ? 1.0 : 2.0));
  }
  c.series.push_back(big);
  auto points = polyline_points(svg::render(c));
  EXPECT_GT(points.size(), 600u);
  EXPECT_LE(points.size(), 4u * 630u);
  // The one spike up and the one down are both drawn.
  std::vector<double> ys;
  for (const std::string& p : points) ys.push_back(std::stod(p.substr(p.find(',') + 1)));
  const double top = *std::min_element(ys.begin(), ys.end());
  const double bottom = *std::max_element(ys.begin(), ys.end());
  c.series[0] = svg::Series{"run", {1, 2, 3}, {50.0, -40.0, 1.0}};
  auto three = polyline_points(svg::render(c));
  ASSERT_EQ(three.size(), 3u);  // few points: every one drawn, as before
  EXPECT_EQ(top, std::stod(three[0].substr(three[0].find(',') + 1)));
  EXPECT_EQ(bottom, std::stod(three[1].substr(three[1].find(',') + 1)));
}

TEST(SvgChart, EmptyLineChartSaysSo) {
  svg::LineChart c;
  c.id = "x";
  EXPECT_THAT(svg::render(c), HasSubstr("no data"));
}

TEST(SvgChart, HeatmapColoursBestGreenAndMissingGrey) {
  svg::Heatmap m;
  m.id = "h";
  m.x_label = "tp";
  m.y_label = "pp";
  m.value_label = "step time (s)";
  m.columns = {"1", "2"};
  m.rows = {"1"};
  m.cells = {{1.0, std::nullopt}};
  m.higher_is_better = false;
  std::string out = svg::render(m);
  EXPECT_EQ(count(out, "class=\"cell\""), 2u);
  EXPECT_THAT(out, HasSubstr("#e0e0e0"));  // no passing run
  EXPECT_THAT(out, HasSubstr("#66bb6a"));  // the only (so the best) value
}

TEST(SvgChart, FormatsNumbers) {
  EXPECT_EQ(svg::format_number(7.28312), "7.283");
  EXPECT_EQ(svg::format_number(123456), "123456");
  EXPECT_EQ(svg::format_number(0.5), "0.5");
  EXPECT_EQ(svg::format_bytes(8 * 1024 * 1024), "8M");
}

TEST(ResultsData, UrlPathEncodesEverythingButSafeCharacters) {
  EXPECT_EQ(url_path("a b/c#d?e%/x.log"), "a%20b/c%23d%3Fe%25/x.log");
}

// A results folder with a sweep of three points (one failed) and two pruned points.
struct SweepFixture {
  TempDir dir;
  std::vector<RunRecord> records;
  SweepFixture() {
    fs::path c = dir.path() / "sw" / "0";
    write_file(c / "trajectory.csv",
               "step,action,reward,observation\n1,\"{'tp': 1, 'pp': 1}\",0.5,[2.0]\n"
               "2,\"{'tp': 2, 'pp': 1}\",0.25,[4.0]\n4,\"{'tp': 2, 'pp': 2}\",-1.0,[-1.0]\n");
    write_file(c / "pruned.csv",
               "step,tp,pp,rule_ids,messages\n3,1,3,M4,bad pp\n6,2,3,M4,bad pp\n");
    for (int step : {1, 2, 4}) {
      RunRecord r;
      r.case_id = "sw";
      r.step = step;
      r.run_dir = c / std::to_string(step);
      fs::create_directories(r.run_dir);
      testkit::write_slurm_job_record(r.run_dir, "elapsed_time_sec = 3600\n");
      r.workload = "MegatronBridge";  // its result columns get heatmaps; num_gpus counts GPUs
      write_file(r.run_dir / "test-run.toml",
                 "nnodes = 1\n[test_definition]\ntest_template_name = \"MegatronBridge\"\n"
                 "[test_definition.cmd_args]\nnum_gpus = 8\n");
      write_file(r.run_dir / "stdout.txt", "log\n");
      r.passed = step != 4;
      r.state = step != 4 ? "COMPLETED" : "FAILED";
      r.message = step != 4 ? "" : std::string("job ended FAILED\n") + kHostile;
      if (r.passed) r.metrics["step-time"] = step == 1 ? 2.0 : 4.0;
      records.push_back(r);
    }
    fill_params_from_trajectories(records);
  }
};

TEST(HtmlReport, SweepSectionsHoldLeaderboardHeatmapPrunedAndGpuHours) {
  SweepFixture f;
  ReportContext ctx;
  ctx.scenario_name = "scen";
  std::string out = html::render_page(build_results_page(f.dir.path(), f.records, ctx));
  // Leaderboard by reward: step 1 (0.5) above step 2 (0.25) above the failure.
  size_t p1 = out.find(">sw/0/1<"), p2 = out.find(">sw/0/2<"), p4 = out.find(">sw/0/4<");
  ASSERT_NE(p1, std::string::npos);
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p4);
  EXPECT_THAT(out, HasSubstr("id=\"leaderboard-1\""));
  EXPECT_THAT(out, HasSubstr("id=\"heatmap-1-step-time\""));
  EXPECT_THAT(out, HasSubstr("step time (s) by tp x pp"));
  // pp=3 appears as a (grey) row although every point there was pruned.
  EXPECT_THAT(out, HasSubstr("data-x=\"1\" data-y=\"3\""));
  EXPECT_THAT(out, HasSubstr("id=\"pruned-1\""));
  EXPECT_THAT(out, HasSubstr("step 3: tp=1 pp=3: bad pp"));
  // 3 runs x 1 h x 8 GPUs.
  EXPECT_THAT(out, HasSubstr(">24.00<"));
  EXPECT_THAT(out, HasSubstr("href=\"sw/0/1/stdout.txt\""));
  EXPECT_THAT(out, Not(HasSubstr("<script>")));
  EXPECT_THAT(out, HasSubstr("&lt;script&gt;"));
}

// The runs table of a page (report.html's "runs-table").
const html::Table* runs_table(const html::Page& page) {
  for (const html::Section& s : page.sections)
    for (const html::Block& b : s.blocks)
      if (const auto* t = std::get_if<html::Table>(&b); t && t->id == "runs-table") return t;
  return nullptr;
}

// The text of `row`'s cell under `header`; "?" when there is no such column.
std::string cell_under(const html::Table& t, const std::vector<html::Cell>& row,
                       const std::string& header) {
  auto at = std::find(t.header.begin(), t.header.end(), header);
  if (at == t.header.end()) return "?";
  return row.at(static_cast<size_t>(at - t.header.begin())).text;
}

TEST(HtmlReport, RunsTableShowsPredictedBesideMeasuredOnlyWhenARunHasAPrediction) {
  SweepFixture f;
  const html::Page without = build_results_page(f.dir.path(), f.records, {});
  const html::Table* before = runs_table(without);  // points into `without`: keep it alive
  ASSERT_NE(before, nullptr);
  EXPECT_THAT(before->header, Not(::testing::Contains("predicted step (s)")));

  RunRecord& r = f.records[0];  // sw/0/1: measured 2 s
  r.prediction.emplace();
  r.prediction->estimate.step_time_s = 2.0;
  r.prediction->step_time_factor = 0.8;  // calibrated: 1.6 s
  r.prediction->estimate.memory = MemoryEstimate{30, 0, 10, 20, 1.5, {}};
  r.measured.step_time_s = 2.0;
  r.measured.memory = MeasuredMemory{};
  r.measured.memory->max_allocated_gib = 55.24;
  r.measured.memory->max_reserved_gib = 60.0;
  html::Page page = build_results_page(f.dir.path(), f.records, {});
  const html::Table* t = runs_table(page);
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), 3u);
  const auto& row = t->rows[0];
  EXPECT_EQ(cell_under(*t, row, "step time (s)"), "2");
  EXPECT_EQ(cell_under(*t, row, "predicted step (s)"), "1.600");
  EXPECT_EQ(cell_under(*t, row, "step vs predicted"), "+25.0%");
  EXPECT_EQ(cell_under(*t, row, "predicted mem (GiB)"), "61.5");
  EXPECT_EQ(cell_under(*t, row, "max alloc (GiB)"), "55.2");
  EXPECT_EQ(cell_under(*t, row, "max reserved (GiB)"), "60.0");
  for (const std::string& h : prediction_headers())
    EXPECT_EQ(cell_under(*t, t->rows[1], h), "-") << h;  // sw/0/2: no prediction
  std::string out = html::render_page(page);
  EXPECT_THAT(out, HasSubstr("measured / predicted - 1"));
}

TEST(Junit, OneCasePerRunFailuresWithReasonPrunedSkipped) {
  SweepFixture f;
  std::string xml = format_junit(f.dir.path(), "scen", f.records);
  EXPECT_THAT(xml, HasSubstr("<testsuites name=\"scen\" tests=\"5\" failures=\"1\" errors=\"0\" "
                             "skipped=\"2\" time=\"10800.000\">"));
  EXPECT_THAT(xml, HasSubstr("<testcase name=\"sw/0/1 tp=1 pp=1\""));
  EXPECT_THAT(xml, HasSubstr("<failure message=\"job ended FAILED\" type=\"FAILED\">job ended "
                             "FAILED\n&lt;script&gt;alert(&#39;x&#39;)"));
  EXPECT_THAT(xml, HasSubstr("<skipped message=\"pruned by M4: bad pp\"/>"));
  EXPECT_EQ(count(xml, "<testcase "), 5u);
}

TEST(Junit, ARunSkippedByItsPreTestIsAFailure) {
  SweepFixture f;
  RunRecord& r = f.records.front();
  r.passed = false;
  r.skipped = true;
  r.state = "SKIPPED";
  r.message = "pre-test 'nccl' failed, so sw was not started: node2 27.4 GB/s";
  EXPECT_EQ(run_status(r), RunStatus::kSkipped);
  std::string xml = format_junit(f.dir.path(), "scen", f.records);
  EXPECT_THAT(xml, HasSubstr("failures=\"2\""));
  EXPECT_THAT(xml, HasSubstr("<failure message=\"pre-test &#39;nccl&#39; failed, so sw was not "
                             "started: node2 27.4 GB/s\" type=\"SKIPPED\">"));
}

TEST(Junit, XmlEscapeDropsCharactersXmlCannotHold) {
  EXPECT_EQ(markup_escape(std::string("a\x01\x1b[31mb\tc<")), "a[31mb\tc&lt;");
}

}  // namespace
}  // namespace bp
