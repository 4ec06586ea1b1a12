#include "systems/slurm/slurm_output.h"

#include <cctype>

#include "util/strings.h"

namespace bp {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// The digits that follow `marker` (after blanks) at its first occurrence with digits.
std::optional<std::string> number_after(std::string_view text, std::string_view marker) {
  size_t pos = 0;
  while ((pos = text.find(marker, pos)) != std::string_view::npos) {
    size_t i = pos + marker.size();
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) return std::string(text.substr(start, i - start));
    pos += marker.size();
  }
  return std::nullopt;
}

// Calls fn(line) for each non-blank line (trimmed).
template <typename Fn>
void for_each_line(std::string_view text, Fn fn) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(start, end - start));
    if (!line.empty()) fn(line);
    start = end + 1;
  }
}

// Splits on '|' into at most `n` fields; the last one keeps any further '|'.
std::vector<std::string> split_fields(std::string_view line, size_t n) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (fields.size() + 1 < n) {
    size_t bar = line.find('|', start);
    if (bar == std::string_view::npos) break;
    fields.emplace_back(line.substr(start, bar - start));
    start = bar + 1;
  }
  fields.emplace_back(line.substr(start));
  return fields;
}

bool is_key(std::string_view word) {
  if (word.empty() || !std::isalpha(static_cast<unsigned char>(word[0]))) return false;
  for (char c : word)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':' && c != '/')
      return false;
  return true;
}

std::string clean_reason(std::string_view r) {
  r = trim(r);
  if (r == "None" || r == "(null)") return "";
  return std::string(r);
}

SlurmJobStatus make_status(std::string_view id, std::string_view state, std::string_view exit_code,
                           std::string_view reason) {
  SlurmJobStatus s;
  s.id = std::string(trim(id));
  s.state_text = std::string(trim(state));
  s.state = job_state_from_slurm(s.state_text);
  s.exit_code = std::string(trim(exit_code));
  s.reason = clean_reason(reason);
  return s;
}

}  // namespace

std::optional<std::string> parse_parsable_job_id(std::string_view out) {
  std::optional<std::string> id;
  bool seen_line = false;
  for_each_line(out, [&](std::string_view line) {
    if (seen_line) return;
    seen_line = true;
    std::string_view first = trim(line.substr(0, line.find(';')));
    if (all_digits(first)) id = std::string(first);
  });
  return id;
}

std::optional<std::string> find_submitted_job_id(std::string_view text) {
  if (auto id = number_after(text, "Submitted batch job")) return id;
  return number_after(text, "submitted with Job ID");
}

std::vector<std::string> find_submitted_job_ids(std::string_view text) {
  std::vector<std::string> ids;
  for_each_line(text, [&](std::string_view line) {
    if (auto id = number_after(line, "Submitted batch job")) ids.push_back(*id);
  });
  return ids;
}

std::optional<std::string> parse_sbatch_job_id(std::string_view out) {
  if (auto id = find_submitted_job_id(out)) return id;
  return parse_parsable_job_id(out);
}

std::vector<SlurmJobStatus> parse_squeue_output(std::string_view out) {
  std::vector<SlurmJobStatus> statuses;
  for_each_line(out, [&](std::string_view line) {
    auto f = split_fields(line, 3);
    if (f.size() < 2 || trim(f[0]).empty()) return;
    statuses.push_back(make_status(f[0], f[1], "", f.size() > 2 ? f[2] : ""));
  });
  return statuses;
}

std::map<std::string, std::string> parse_key_values(std::string_view text) {
  std::map<std::string, std::string> kv;
  std::string* last = nullptr;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view word = text.substr(start, i - start);
    if (word.empty()) break;
    size_t eq = word.find('=');
    if (eq != std::string_view::npos && is_key(word.substr(0, eq))) {
      last = &kv[std::string(word.substr(0, eq))];
      *last = std::string(word.substr(eq + 1));
    } else if (last) {
      *last += ' ';
      *last += word;
    }
  }
  return kv;
}

std::optional<SlurmJobStatus> status_from_key_values(const std::map<std::string, std::string>& kv) {
  auto get = [&](const char* key) {
    auto it = kv.find(key);
    return it == kv.end() ? std::string() : it->second;
  };
  std::string id = get("JobId");
  if (id.empty()) return std::nullopt;
  return make_status(id, get("JobState"), get("ExitCode"), get("Reason"));
}

std::vector<SacctRow> parse_sacct_rows(std::string_view out) {
  std::vector<SacctRow> rows;
  for_each_line(out, [&](std::string_view line) {
    auto f = split_fields(line, 10);
    if (f.size() < 10) return;  // not a full row
    SacctRow row;
    std::string_view id = f[0];
    size_t dot = id.find('.');
    row.job_id = std::string(id.substr(0, dot));
    if (dot != std::string_view::npos) row.step = std::string(id.substr(dot + 1));
    row.name = f[1];
    row.state = f[2];
    row.exit_code = f[3];
    row.reason = f[4];
    row.start = f[5];
    row.end = f[6];
    // At most 12 digits: stoll throws past 19, and no job runs 30,000 years.
    if (all_digits(f[7]) && f[7].size() <= 12) row.elapsed_sec = std::stoll(f[7]);
    row.node_list = f[8];
    row.submit_line = f[9];
    rows.push_back(std::move(row));
  });
  return rows;
}

std::vector<SlurmJobStatus> job_statuses(const std::vector<SacctRow>& rows) {
  std::vector<SlurmJobStatus> out;
  for (const SacctRow& r : rows)
    if (r.step.empty()) out.push_back(make_status(r.job_id, r.state, r.exit_code, r.reason));
  return out;
}

std::optional<long long> parse_slurm_duration(std::string_view text) {
  text = trim(text);
  long long days = 0;
  size_t dash = text.find('-');
  if (dash != std::string_view::npos) {
    // At most 6 digits of days (stoll threw out_of_range on 20, found by fuzz_slurm_output).
    if (!all_digits(text.substr(0, dash)) || dash > 6) return std::nullopt;
    days = std::stoll(std::string(text.substr(0, dash)));
    text = text.substr(dash + 1);
  }
  auto parts = split(text, ':');
  if (parts.empty() || parts.size() > 3) return std::nullopt;
  long long secs = 0;
  for (const std::string& p : parts) {
    if (!all_digits(p) || p.size() > 6) return std::nullopt;
    secs = secs * 60 + std::stoll(p);
  }
  return days * 86400 + secs;
}

std::optional<std::string> config_value(std::string_view scontrol_config, std::string_view key) {
  std::optional<std::string> value;
  for_each_line(scontrol_config, [&](std::string_view line) {
    if (value) return;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return;
    if (trim(line.substr(0, eq)) == key) value = std::string(trim(line.substr(eq + 1)));
  });
  return value;
}

}  // namespace bp
