#include "report/html_page.h"

namespace bp::html {
namespace {

constexpr const char* kStyle = R"CSS(
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:0;color:#1d2125;background:#f6f7f8}
header{background:#1f2a33;color:#fff;padding:14px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d3da;font-size:13px}
nav{padding:8px 28px;background:#e9edf0;font-size:13px}
nav a{margin-right:16px;color:#1f4f7a;text-decoration:none}
main{padding:6px 28px 40px}
section{background:#fff;border:1px solid #dde2e6;border-radius:6px;margin:16px 0;padding:10px 18px 16px;overflow-x:auto}
h2{font-size:17px;margin:6px 0 10px;color:#1f2a33}
p{font-size:13px;line-height:1.45}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0;max-width:100%}
th,td{border:1px solid #dde2e6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.passed{background:#e3f3e4;color:#1b5e20;font-weight:bold}
td.failed{background:#fbe4e4;color:#b71c1c;font-weight:bold}
td.skipped{background:#f1f1f1;color:#555}
td.best{background:#fff4c2;font-weight:bold}
td.warn{background:#fff0e0}
td.regression{background:#b71c1c;color:#fff;font-weight:bold}
td pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;font-size:11.5px;max-height:9em;overflow:auto;min-width:320px;max-width:560px}
td a{white-space:nowrap}
.figures{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0}
.figure{border:1px solid #dde2e6;border-radius:5px;padding:8px 14px;min-width:110px;background:#fafbfc}
.figure .v{font-size:20px;font-weight:bold}
.figure .l{font-size:11.5px;color:#5a646c}
.figure.passed .v{color:#1b5e20}.figure.failed .v{color:#b71c1c}.figure.skipped .v{color:#6d6d6d}
details{margin:6px 0}
details pre,pre.block{background:#f3f4f5;padding:8px;font-size:11.5px;overflow:auto;max-height:28em}
svg.chart{display:block;margin:10px 0;max-width:100%;height:auto;background:#fff}
svg .chart-title{font-size:14px;font-weight:bold;fill:#1f2a33}
svg .tick{font-size:11px;fill:#444}
svg .axis-label{font-size:12px;fill:#222}
svg .legend{font-size:11.5px;fill:#222}
svg .cell-value{font-size:12px;fill:#111}
svg .grid line{stroke:#e4e7ea;stroke-width:1}
svg rect.frame{fill:none;stroke:#9aa3aa}
)CSS";

struct BlockWriter {
  std::string& out;

  void operator()(const Paragraph& p) { out += "<p>" + escape(p.text) + "</p>\n"; }

  void operator()(const std::vector<Figure>& figures) {
    out += "<div class=\"figures\">\n";
    for (const Figure& f : figures)
      out += "<div class=\"figure " + escape(f.css) + "\"><div class=\"v\">" + escape(f.value) +
             "</div><div class=\"l\">" + escape(f.label) + "</div></div>\n";
    out += "</div>\n";
  }

  void operator()(const Table& t) {
    if (t.rows.empty()) {
      out += "<p class=\"empty\" id=\"" + escape(t.id) + "\">" + escape(t.empty_text) + "</p>\n";
      return;
    }
    out += "<table id=\"" + escape(t.id) + "\">\n<thead><tr>";
    for (const std::string& h : t.header) out += "<th>" + escape(h) + "</th>";
    out += "</tr></thead>\n<tbody>\n";
    for (const auto& row : t.rows) {
      out += "<tr>";
      for (const Cell& c : row) {
        out += "<td";
        if (!c.css.empty()) out += " class=\"" + escape(c.css) + "\"";
        if (!c.title.empty()) out += " title=\"" + escape(c.title) + "\"";
        out += ">";
        // Multi-line text (failure reasons, log tails) keeps its lines.
        bool multiline = c.text.find('\n') != std::string::npos;
        if (multiline) out += "<pre>";
        if (!c.href.empty())
          out += "<a href=\"" + escape(c.href) + "\">" + escape(c.text) + "</a>";
        else
          out += escape(c.text);
        if (multiline) out += "</pre>";
        for (size_t i = 0; i < c.links.size(); ++i)
          out += std::string(i || !c.text.empty() ? " " : "") + "<a href=\"" +
                 escape(c.links[i].second) + "\">" + escape(c.links[i].first) + "</a>";
        out += "</td>";
      }
      out += "</tr>\n";
    }
    out += "</tbody></table>\n";
  }

  void operator()(const svg::LineChart& c) { out += svg::render(c); }
  void operator()(const svg::Heatmap& c) { out += svg::render(c); }
  void operator()(const svg::BarChart& c) { out += svg::render(c); }

  void operator()(const Preformatted& p) {
    if (p.summary.empty()) {
      out += "<pre class=\"block\">" + escape(p.text) + "</pre>\n";
    } else {
      out += "<details><summary>" + escape(p.summary) + "</summary><pre>" + escape(p.text) +
             "</pre></details>\n";
    }
  }
};

}  // namespace

std::string render_page(const Page& page) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      // Nothing on this page may load from anywhere: it is opened from shared filesystems.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:\">\n<title>" +
      escape(page.title) + "</title>\n<style>" + kStyle +
      "</style>\n</head>\n<body>\n<header><h1>" + escape(page.title) + "</h1>";
  if (!page.subtitle.empty()) out += "<p>" + escape(page.subtitle) + "</p>";
  out += "</header>\n<nav>";
  for (const Section& s : page.sections)
    out += "<a href=\"#" + escape(s.id) + "\">" + escape(s.title) + "</a>";
  out += "</nav>\n<main>\n";
  for (const Section& s : page.sections) {
    out += "<section id=\"" + escape(s.id) + "\">\n<h2>" + escape(s.title) + "</h2>\n";
    BlockWriter w{out};
    for (const Block& b : s.blocks) std::visit(w, b);
    out += "</section>\n";
  }
  out += "</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace bp::html
