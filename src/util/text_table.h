// Fixed-width text tables for the terminal (compare, history).
#pragma once

#include <string>
#include <vector>

namespace bp {

// Rows of cells, the first row the header: every column padded to its widest cell plus two
// spaces (the last column not padded), and a line of '-' as long as the header under it.
// Empty when `rows` is empty.
std::string format_text_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace bp
