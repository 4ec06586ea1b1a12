#include "workloads/nccl_test/output.h"

#include <algorithm>
#include <cmath>

#include "util/numbers.h"

namespace bp::nccl {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Splits on blanks into at most `max` views; returns how many were found (max + 1 = more).
size_t split_fields(std::string_view line, std::string_view* out, size_t max) {
  size_t n = 0, i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i >= line.size()) break;
    size_t start = i;
    while (i < line.size() && !is_blank(line[i])) ++i;
    if (n == max) return max + 1;
    out[n++] = line.substr(start, i - start);
  }
  return n;
}

std::string_view after_colon(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return {};
  std::string_view rest = line.substr(colon + 1);
  while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
  return rest;
}

std::string_view first_word(std::string_view s) {
  size_t end = 0;
  while (end < s.size() && !is_blank(s[end])) ++end;
  return s.substr(0, end);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A byte, element or error count ("1048576", "1e+06"): finite, not negative, and small enough for
// int64_t (casting 1e120 is undefined behaviour; found by fuzz_nccl_output).
std::optional<int64_t> parse_count(std::string_view s) {
  auto v = parse_number(s);
  if (!v || !std::isfinite(*v) || *v < 0 || *v >= 9.0e18) return std::nullopt;
  return static_cast<int64_t>(*v);
}

std::optional<Placement> parse_placement(const std::string_view* f) {
  auto t = parse_number(f[0]);
  auto a = parse_number(f[1]);
  auto b = parse_number(f[2]);
  if (!t || !a || !b) return std::nullopt;
  Placement p{*t, *a, *b, std::nullopt};
  if (f[3] != "N/A") {
    auto w = parse_count(f[3]);
    if (!w) return std::nullopt;
    p.wrong = *w;
  }
  return p;
}

// "#  Rank  0 Group  0 Pid 412230 on   node-001 device  0 [0000:18:00] NVIDIA H100 80GB HBM3"
// (v2.13 and earlier: no Group, bus id "[0x18]").
void parse_device(std::string_view line, Output& out) {
  std::string_view f[16];
  size_t n = split_fields(line, f, 15);
  if (n > 15) n = 15;
  Device d;
  bool have_rank = false, have_host = false, have_dev = false;
  size_t name_from = 0;
  for (size_t i = 0; i + 1 < n; ++i) {
    if (f[i] == "Rank") {
      if (auto v = parse_whole_int(f[i + 1])) d.rank = static_cast<int>(*v), have_rank = true;
    } else if (f[i] == "on") {
      d.host = std::string(f[i + 1]), have_host = true;
    } else if (f[i] == "device") {
      if (auto v = parse_whole_int(f[i + 1])) d.device = static_cast<int>(*v), have_dev = true;
      name_from = i + 2;
    }
  }
  if (!have_rank || !have_host || !have_dev) return;
  if (name_from < n && f[name_from].starts_with("[")) ++name_from;
  if (name_from < n) {
    // The rest of the line after the bus id.
    const char* begin = f[name_from].data();
    d.name = std::string(trim_right(std::string_view(begin, line.data() + line.size() - begin)));
  }
  out.devices.push_back(std::move(d));
}

}  // namespace

std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);  // a sign is accepted here
  return parse_whole_double(s);
}

Output parse_output(std::string_view text) {
  Output out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t i = 0;
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i >= line.size()) continue;
    std::string_view body = line.substr(i);
    char c = body.front();
    if (c >= '0' && c <= '9') {
      std::string_view f[14];
      if (split_fields(body, f, 13) != 13) continue;
      auto size = parse_count(f[0]);
      auto count = parse_count(f[1]);
      auto root = parse_whole_int(f[4]);
      auto oop = parse_placement(f + 5);
      auto ip = parse_placement(f + 9);
      if (!size || !count || !root || !oop || !ip) continue;
      out.rows.push_back(
          ResultRow{*size, *count, std::string(f[2]), std::string(f[3]), *root, *oop, *ip});
      continue;
    }
    if (c == '#') {
      std::string_view rest = body.substr(1);
      while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
      if (starts_with(rest, "Rank ") && rest.find(" device ") != std::string_view::npos) {
        parse_device(rest, out);
      } else if (starts_with(rest, "Out of bounds values")) {
        if (auto v = parse_whole_int(first_word(after_colon(rest)))) out.out_of_bounds = *v;
      } else if (starts_with(rest, "Avg bus bandwidth")) {
        out.avg_busbw = parse_number(first_word(after_colon(rest)));
      } else if (starts_with(rest, "Collective test starting:")) {
        out.program = std::string(first_word(after_colon(rest)));
      } else if (starts_with(rest, "size") && rest.find("busbw") != std::string_view::npos &&
                 rest.find("#wrong") != std::string_view::npos) {
        out.has_table_header = true;
      }
      continue;
    }
    bool nccl = body.find("Test NCCL failure") != std::string_view::npos;
    bool other = !nccl && (body.find("Test failure") != std::string_view::npos ||
                           body.find("Test CUDA failure") != std::string_view::npos ||
                           body.find("Test timeout") != std::string_view::npos);
    if (nccl || other) {
      out.nccl_failure |= nccl;
      out.test_failure |= other;
      if (out.failure_lines.size() < 5) out.failure_lines.emplace_back(trim_right(body));
    }
  }
  return out;
}

std::vector<std::string> Output::hosts() const {
  std::vector<std::string> out;
  for (const Device& d : devices)
    if (std::find(out.begin(), out.end(), d.host) == out.end()) out.push_back(d.host);
  return out;
}

std::optional<const ResultRow*> Output::peak_row() const {
  if (rows.empty()) return std::nullopt;
  const ResultRow* best = &rows.front();
  for (const ResultRow& r : rows)
    if (r.peak_busbw() > best->peak_busbw()) best = &r;
  return best;
}

std::optional<double> Output::mean_time(bool in_place) const {
  if (rows.empty()) return std::nullopt;
  double sum = 0;
  for (const ResultRow& r : rows) sum += in_place ? r.in_place.time_us : r.out_of_place.time_us;
  return sum / static_cast<double>(rows.size());
}

}  // namespace bp::nccl
