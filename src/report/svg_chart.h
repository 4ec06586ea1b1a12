// Charts as inline SVG (no script, no external resource), built from plain data so any page can
// hand its numbers: line charts (step time per step, bus bandwidth per message size), heatmaps
// (a metric over two swept axes) and horizontal bar charts (GPU-hours planned vs spent).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace bp::svg {

struct Series {
  std::string name;  // legend text
  std::vector<double> x, y;
};

struct LineChart {
  std::string id;  // DOM id of the <svg> (tests look charts up by it)
  std::string title;
  std::string x_label, y_label;
  bool log_x = false;  // base-2 ticks (message sizes)
  std::vector<Series> series;
};

struct Heatmap {
  std::string id;
  std::string title;
  std::string x_label, y_label;                           // axis names, e.g. "tp" and "pp"
  std::string value_label;                                // e.g. "step time (s)"
  std::vector<std::string> columns;                       // x values
  std::vector<std::string> rows;                          // y values
  std::vector<std::vector<std::optional<double>>> cells;  // [row][column]; empty = no value
  bool higher_is_better = false;
};

struct Bar {
  std::string label;
  double value = 0;
  std::string note;  // printed after the value
};

struct BarChart {
  std::string id;
  std::string title;
  std::string unit;
  std::vector<Bar> bars;
};

// A number for a label: 4 significant digits, no exponent below 1e9, trailing zeros dropped.
std::string format_number(double v);
// "1K", "256M", ... for byte counts on a log axis.
std::string format_bytes(double v);

std::string render(const LineChart& chart);
std::string render(const Heatmap& map);
std::string render(const BarChart& chart);

}  // namespace bp::svg
