#include "report/svg_chart.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "report/html_page.h"

namespace bp::svg {
namespace {

using html::escape;

constexpr const char* kPalette[] = {"#2f7d32", "#c62828", "#1565c0", "#ef6c00",
                                    "#6a1b9a", "#00838f", "#5d4037", "#ad1457"};
constexpr size_t kPaletteSize = sizeof kPalette / sizeof kPalette[0];

std::string num(double v) {  // coordinates: printf's "%.1f" (to_chars: same text, faster)
  char buf[400];             // "%.1f" of the largest double has 310 digits
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 1);
  return std::string(buf, end);
}

struct Ticks {
  double lo = 0, hi = 1;
  std::vector<double> at;
};

// Round numbers covering [lo, hi] in about `target` steps of 1, 2 or 5 x 10^k.
Ticks nice_ticks(double lo, double hi, int target = 5) {
  Ticks t;
  if (!(hi > lo)) {
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  t.lo = std::floor(lo / step) * step;
  t.hi = std::ceil(hi / step) * step;
  for (double v = t.lo; v <= t.hi + step * 1e-9; v += step)
    t.at.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  return t;
}

std::string svg_open(const std::string& id, const std::string& title, int w, int h,
                     const std::string& kind) {
  return "<svg id=\"" + escape(id) + "\" class=\"chart " + kind + "\" role=\"img\" aria-label=\"" +
         escape(title) + "\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) +
         "\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) +
         "\" xmlns=\"http://www.w3.org/2000/svg\">\n<title>" + escape(title) + "</title>\n";
}

std::string text(double x, double y, const std::string& s, const std::string& cls,
                 const std::string& anchor = "middle", const std::string& extra = "") {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" class=\"" + cls + "\" text-anchor=\"" +
         anchor + "\"" + extra + ">" + escape(s) + "</text>\n";
}

// Colour between the best (green) and the worst (red) end through pale yellow; t in [0, 1],
// 1 = best.
std::string scale_colour(double t) {
  t = std::clamp(t, 0.0, 1.0);
  struct Rgb {
    double r, g, b;
  };
  const Rgb worst{229, 115, 115}, mid{255, 241, 178}, best{102, 187, 106};
  Rgb a = t < 0.5 ? worst : mid, b = t < 0.5 ? mid : best;
  double u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(a.r + (b.r - a.r) * u),
                static_cast<int>(a.g + (b.g - a.g) * u), static_cast<int>(a.b + (b.b - a.b) * u));
  return buf;
}

}  // namespace

std::string format_number(double v) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  if (std::fabs(v) >= 1e9 || (v != 0 && std::fabs(v) < 1e-4)) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.4g", v);
  std::string s = buf;
  if (s.find('e') != std::string::npos) {  // %.4g of e.g. 123456 -> print whole
    std::snprintf(buf, sizeof buf, "%.0f", v);
    s = buf;
  }
  return s;
}

std::string format_bytes(double v) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return format_number(v) + units[u];
}

struct Point {
  double x, y;
};

// The points of a polyline worth drawing, fed in order. Beyond 4 per pixel column (a long run's
// million steps) a line draws the same through each column's first, lowest, highest and last
// point (M4 decimation), so the page stays small and nothing is kept per input point; the
// caller decides `decimate` (many points, x in order), else every point is kept.
class PolylinePoints {
 public:
  explicit PolylinePoints(bool decimate) : decimate_(decimate) {}

  void add(Point p) {
    if (!decimate_) {
      out_.push_back(p);
      return;
    }
    const double column = std::floor(p.x);
    if (count_ > 0 && column != column_) flush();
    if (count_ == 0) {
      column_ = column;
      first_ = low_ = high_ = {p, seq_};
    }
    if (p.y < low_.p.y) low_ = {p, seq_};
    if (p.y > high_.p.y) high_ = {p, seq_};
    last_ = {p, seq_};
    ++count_;
    ++seq_;
  }

  std::vector<Point> finish() {
    if (count_ > 0) flush();
    return std::move(out_);
  }

 private:
  struct Seen {
    Point p;
    size_t seq;
  };
  void flush() {
    const Seen& a = low_.seq < high_.seq ? low_ : high_;
    const Seen& b = low_.seq < high_.seq ? high_ : low_;
    const Seen* picks[] = {&first_, &a, &b, &last_};
    for (size_t k = 0; k < 4; ++k)
      if (k == 0 || picks[k]->seq != picks[k - 1]->seq) out_.push_back(picks[k]->p);
    count_ = 0;
  }

  bool decimate_;
  std::vector<Point> out_;
  size_t count_ = 0, seq_ = 0;
  double column_ = 0;
  Seen first_{}, low_{}, high_{}, last_{};
};

// Where a line chart's plot area lies and how data maps onto it.
struct PlotFrame {
  int left = 0, top = 0, pw = 0, ph = 0;
  Ticks xt, yt;
  double px(double x) const { return left + (x - xt.lo) / (xt.hi - xt.lo) * pw; }
  double py(double y) const { return top + ph - (y - yt.lo) / (yt.hi - yt.lo) * ph; }
};

// The range of the drawable points (finite, and x > 0 on a log2 x axis, whose x is log2 x).
struct DataBounds {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  size_t points = 0;
};

DataBounds data_bounds(const LineChart& chart) {
  DataBounds b;
  for (const Series& s : chart.series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      if (chart.log_x && s.x[i] <= 0) continue;
      double x = chart.log_x ? std::log2(s.x[i]) : s.x[i];
      b.xmin = std::min(b.xmin, x);
      b.xmax = std::max(b.xmax, x);
      b.ymin = std::min(b.ymin, s.y[i]);
      b.ymax = std::max(b.ymax, s.y[i]);
      ++b.points;
    }
  return b;
}

// Ticks of the x axis: whole powers of two on a log2 axis (at most about 8), else nice ticks.
Ticks x_ticks(const LineChart& chart, const DataBounds& b) {
  if (!chart.log_x) return nice_ticks(b.xmin, b.xmax, 8);
  Ticks xt;
  xt.lo = std::floor(b.xmin);
  xt.hi = std::max(std::ceil(b.xmax), xt.lo + 1);
  int stride = std::max(1, static_cast<int>(std::ceil((xt.hi - xt.lo) / 8)));
  for (double v = xt.lo; v <= xt.hi; v += stride) xt.at.push_back(v);
  return xt;
}

// The grid, tick labels, frame and axis labels of a line chart.
std::string plot_axes(const LineChart& chart, const PlotFrame& f) {
  std::string out = "<g class=\"grid\">\n";
  for (double y : f.yt.at) {
    out += "<line x1=\"" + num(f.left) + "\" x2=\"" + num(f.left + f.pw) + "\" y1=\"" +
           num(f.py(y)) + "\" y2=\"" + num(f.py(y)) + "\"/>\n";
    out += text(f.left - 6, f.py(y) + 4, format_number(y), "tick", "end");
  }
  for (double x : f.xt.at) {
    out += "<line y1=\"" + num(f.top) + "\" y2=\"" + num(f.top + f.ph) + "\" x1=\"" + num(f.px(x)) +
           "\" x2=\"" + num(f.px(x)) + "\"/>\n";
    std::string label = chart.log_x ? format_bytes(std::exp2(x)) : format_number(x);
    out += text(f.px(x), f.top + f.ph + 16, label, "tick");
  }
  out += "</g>\n<rect class=\"frame\" x=\"" + num(f.left) + "\" y=\"" + num(f.top) + "\" width=\"" +
         num(f.pw) + "\" height=\"" + num(f.ph) + "\"/>\n";
  out += text(f.left + f.pw / 2.0, f.top + f.ph + 34, chart.x_label, "axis-label");
  out += text(16, f.top + f.ph / 2.0, chart.y_label, "axis-label", "middle",
              " transform=\"rotate(-90 16 " + num(f.top + f.ph / 2.0) + ")\"");
  return out;
}

// Series k of a line chart: its polyline (decimated when long and in x order), a dot with a
// tooltip per point when it has at most 80, and its legend row.
std::string plot_series(const LineChart& chart, size_t k, const PlotFrame& f) {
  const Series& s = chart.series[k];
  const char* colour = kPalette[k % kPaletteSize];
  std::string dots;
  size_t n = std::min(s.x.size(), s.y.size());
  auto drawn = [&](size_t i) {
    return std::isfinite(s.x[i]) && std::isfinite(s.y[i]) && !(chart.log_x && s.x[i] <= 0);
  };
  auto x_at = [&](size_t i) { return f.px(chart.log_x ? std::log2(s.x[i]) : s.x[i]); };
  size_t count = 0;
  bool ordered = true;
  for (size_t i = 0, last = 0; i < n; ++i) {
    if (!drawn(i)) continue;
    if (count > 0 && x_at(i) < x_at(last)) ordered = false;
    last = i;
    ++count;
  }
  PolylinePoints line(ordered && count > 4 * static_cast<size_t>(f.pw));
  for (size_t i = 0; i < n; ++i) {
    if (!drawn(i)) continue;
    double x = x_at(i), y = f.py(s.y[i]);
    line.add({x, y});
    if (n <= 80)
      dots += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"2.5\"><title>" +
              escape(s.name + ": " + format_number(s.x[i]) + " -> " + format_number(s.y[i])) +
              "</title></circle>";
  }
  std::string pts;
  for (const Point& p : line.finish()) {
    pts += num(p.x);
    pts += ',';
    pts += num(p.y);
    pts += ' ';
  }
  std::string out = "<g class=\"series\" data-series=\"" + escape(s.name) + "\" stroke=\"" +
                    colour + "\" fill=\"" + colour +
                    "\">\n<polyline fill=\"none\" stroke-width=\"2\" points=\"" + pts + "\"/>\n" +
                    dots + "\n</g>\n";
  double ly = f.top + f.ph + 56 + 18.0 * static_cast<double>(k);
  out += "<rect x=\"" + num(f.left) + "\" y=\"" + num(ly - 10) +
         "\" width=\"12\" height=\"12\" fill=\"" + colour + "\"/>\n";
  out += text(f.left + 18, ly, s.name, "legend", "start");
  return out;
}

std::string render(const LineChart& chart) {
  const int legend_rows = static_cast<int>(chart.series.size());
  const int w = 720, left = 70, right = 20, top = 34, bottom = 56 + 18 * legend_rows;
  const int h = 260 + bottom;
  const DataBounds bounds = data_bounds(chart);
  std::string out = svg_open(chart.id, chart.title, w, h, "line-chart");
  out += text(w / 2.0, 20, chart.title, "chart-title");
  if (bounds.points == 0) {
    out += text(w / 2.0, h / 2.0, "no data", "axis-label");
    return out + "</svg>\n";
  }
  PlotFrame frame;
  frame.left = left;
  frame.top = top;
  frame.pw = w - left - right;
  frame.ph = h - top - bottom;
  frame.yt = nice_ticks(bounds.ymin, bounds.ymax);
  frame.xt = x_ticks(chart, bounds);
  out += plot_axes(chart, frame);
  for (size_t k = 0; k < chart.series.size(); ++k) out += plot_series(chart, k, frame);
  return out + "</svg>\n";
}

std::string render(const Heatmap& map) {
  const int cw = 86, ch = 40, left = 90, top = 70, right = 20, bottom = 50;
  const int ncol = static_cast<int>(map.columns.size()), nrow = static_cast<int>(map.rows.size());
  // Wide enough for the title (about 8 px per character at 14 px bold).
  const int title_w = 20 + 9 * static_cast<int>(map.title.size());
  const int w = std::max({left + ncol * cw + right, 560, title_w}), h = top + nrow * ch + bottom;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& row : map.cells)
    for (const auto& c : row)
      if (c && std::isfinite(*c)) {
        lo = std::min(lo, *c);
        hi = std::max(hi, *c);
      }
  std::string out = svg_open(map.id, map.title, w, h, "heatmap");
  out += text(10, 20, map.title, "chart-title", "start");
  out += text(left + ncol * cw / 2.0, top - 30, map.x_label, "axis-label");
  out += text(18, top + nrow * ch / 2.0, map.y_label, "axis-label", "middle",
              " transform=\"rotate(-90 18 " + num(top + nrow * ch / 2.0) + ")\"");
  for (int c = 0; c < ncol; ++c)
    out += text(left + c * cw + cw / 2.0, top - 6, map.columns[c], "tick");
  for (int r = 0; r < nrow; ++r) {
    out += text(left - 8, top + r * ch + ch / 2.0 + 4, map.rows[r], "tick", "end");
    for (int c = 0; c < ncol; ++c) {
      std::optional<double> v;
      if (r < static_cast<int>(map.cells.size()) && c < static_cast<int>(map.cells[r].size()))
        v = map.cells[r][c];
      double x = left + c * cw, y = top + r * ch;
      std::string fill = "#e0e0e0", label = "-";
      if (v && std::isfinite(*v)) {
        // 1 = the best value of the map (a lone value is the best).
        double good = hi > lo ? (map.higher_is_better ? *v - lo : hi - *v) / (hi - lo) : 1.0;
        fill = scale_colour(good);
        label = format_number(*v);
      }
      std::string tip = map.x_label + "=" + map.columns[c] + " " + map.y_label + "=" + map.rows[r] +
                        ": " + (v ? format_number(*v) : "no passing run");
      out += "<g class=\"cell\" data-x=\"" + escape(map.columns[c]) + "\" data-y=\"" +
             escape(map.rows[r]) + "\"><rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" +
             std::to_string(cw - 2) + "\" height=\"" + std::to_string(ch - 2) + "\" fill=\"" +
             fill + "\"><title>" + escape(tip) + "</title></rect>";
      out += text(x + cw / 2.0 - 1, y + ch / 2.0 + 4, label, "cell-value");
      out += "</g>\n";
    }
  }
  std::string legend =
      map.value_label +
      (map.higher_is_better ? " (green = higher, better)" : " (green = lower, better)") +
      "; grey = no passing run";
  out += text(left, top + nrow * ch + 28, legend, "legend", "start");
  return out + "</svg>\n";
}

std::string render(const BarChart& chart) {
  const int left = 190, right = 180, top = 34, bar_h = 26, gap = 10, w = 720;
  const int h = top + static_cast<int>(chart.bars.size()) * (bar_h + gap) + 10;
  double hi = 0;
  for (const Bar& b : chart.bars) hi = std::max(hi, b.value);
  std::string out = svg_open(chart.id, chart.title, w, h, "bar-chart");
  out += text(w / 2.0, 20, chart.title, "chart-title");
  for (size_t i = 0; i < chart.bars.size(); ++i) {
    const Bar& b = chart.bars[i];
    double y = top + static_cast<double>(i) * (bar_h + gap);
    double bw = hi > 0 ? std::max(0.0, b.value) / hi * (w - left - right) : 0;
    out += text(left - 8, y + bar_h / 2.0 + 4, b.label, "tick", "end");
    out += "<rect class=\"bar\" x=\"" + num(left) + "\" y=\"" + num(y) + "\" width=\"" + num(bw) +
           "\" height=\"" + std::to_string(bar_h) + "\" fill=\"" + kPalette[i % kPaletteSize] +
           "\"><title>" + escape(b.label + ": " + format_number(b.value) + " " + chart.unit) +
           "</title></rect>\n";
    out += text(left + bw + 6, y + bar_h / 2.0 + 4,
                format_number(b.value) + " " + chart.unit + (b.note.empty() ? "" : "  " + b.note),
                "legend", "start");
  }
  return out + "</svg>\n";
}

}  // namespace bp::svg
