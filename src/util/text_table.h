// Fixed-width text tables for the terminal and text reports: the one printer of compare,
// history, the results table (summary.txt), plan and estimate.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace bp {

struct TextTableStyle {
  // The line of '-' under the header: none, as long as the header's text (compare, history), or
  // as wide as the table (the results table, whose last column may be wider than its header).
  enum class HeaderRule { kNone, kHeaderText, kTableWidth };
  HeaderRule header_rule = HeaderRule::kHeaderText;
  // Columns from this index on are right-aligned (numbers, in plan); none by default.
  size_t right_aligned_from = std::numeric_limits<size_t>::max();
  // Drop the blanks a line ends with (an empty last cell), as estimate prints.
  bool trim_line_ends = false;
};

// Rows of cells, the first row the header: columns two spaces apart, each padded to its widest
// cell (a left-aligned last column not padded), with the header rule the style asks for.
// Empty when `rows` is empty.
std::string format_text_table(const std::vector<std::vector<std::string>>& rows,
                              const TextTableStyle& style = {});

}  // namespace bp
