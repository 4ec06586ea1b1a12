#include "util/text_table.h"

#include <algorithm>

namespace bp {

std::string format_text_table(const std::vector<std::vector<std::string>>& rows,
                              const TextTableStyle& style) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (row.size() > width.size()) width.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  size_t table_width = 0;
  for (size_t w : width) table_width += w + 2;
  if (table_width > 0) table_width -= 2;
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const std::string& cell = rows[r][c];
      const std::string padding(width[c] - cell.size(), ' ');
      if (c > 0) line += "  ";
      if (c >= style.right_aligned_from)
        line += padding + cell;
      else
        line += c + 1 < rows[r].size() ? cell + padding : cell;
    }
    if (style.trim_line_ends) line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
    if (r > 0) continue;
    if (style.header_rule == TextTableStyle::HeaderRule::kHeaderText)
      out += std::string(line.size(), '-') + "\n";
    else if (style.header_rule == TextTableStyle::HeaderRule::kTableWidth)
      out += std::string(table_width, '-') + "\n";
  }
  return out;
}

}  // namespace bp
