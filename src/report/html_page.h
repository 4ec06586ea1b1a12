// A self-contained HTML page (inline CSS and SVG, no script, no network) built from plain data:
// a page is sections of blocks (text, key figures, tables, charts, preformatted text). The
// results report and the store's compare and history pages fill these structs; render_page()
// is the only place that writes markup, and it escapes every string it is given.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "report/svg_chart.h"

#include "util/strings.h"

namespace bp::html {

// Escapes & < > " ' for text and attribute values; drops control characters other than tab and
// newline (they are invalid in HTML).
inline std::string escape(std::string_view s) {
  return markup_escape(s);
}

// Status classes a cell or figure may carry (colours): passed, failed, skipped, best, warn.
struct Cell {
  std::string text;
  std::string href;   // relative link; empty = plain text
  std::string css;    // one of the status classes, or "num" for right-aligned numbers
  std::string title;  // hover text
  std::vector<std::pair<std::string, std::string>> links;  // (text, relative href) after text
};

struct Table {
  std::string id;
  std::vector<std::string> header;
  std::vector<std::vector<Cell>> rows;
  std::string empty_text = "nothing to show";
};

struct Figure {  // a key figure: "GPU-hours spent  12.3"
  std::string label;
  std::string value;
  std::string css;
};

struct Paragraph {
  std::string text;
};

struct Preformatted {
  std::string summary;  // shown collapsed in a <details>; empty = always open
  std::string text;
};

using Block = std::variant<Paragraph, std::vector<Figure>, Table, svg::LineChart, svg::Heatmap,
                           svg::BarChart, Preformatted>;

struct Section {
  std::string id;
  std::string title;
  std::vector<Block> blocks;
};

struct Page {
  std::string title;
  std::string subtitle;
  std::vector<Section> sections;
};

std::string render_page(const Page& page);

}  // namespace bp::html
