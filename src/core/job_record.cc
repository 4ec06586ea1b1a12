#include "core/job_record.h"

#include "config/toml_reader.h"
#include "core/scheduler.h"

namespace bp {

namespace fs = std::filesystem;

namespace {

// A scalar as text (ids are integers or strings, times strings); empty for anything else.
std::string scalar_text(const Value& doc, std::string_view key) {
  const Value* v = doc.find(key);
  return v && !v->is_table() && !v->is_array() && !v->is_none() ? v->to_plain_string()
                                                                : std::string();
}

}  // namespace

std::optional<JobRecord> read_job_record(const fs::path& run_dir) {
  for (const Scheduler* s : all_schedulers())
    if (std::optional<JobRecord> record = s->read_job_record(run_dir)) return record;
  return std::nullopt;
}

bool is_job_record_file(std::string_view file_name) {
  for (const Scheduler* s : all_schedulers())
    if (!s->job_record_file().empty() && s->job_record_file() == file_name) return true;
  return false;
}

std::optional<JobRecord> read_toml_job_record(const fs::path& run_dir, std::string_view file,
                                              Value* doc) {
  const fs::path path = run_dir / file;
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  JobRecord record;
  record.file = std::string(file);
  Value parsed;
  try {
    parsed = read_toml_file(path);  // refuses what is not a regular file, without blocking
  } catch (const std::exception& e) {
    record.unreadable = e.what();
    return record;
  }
  const Value* id = parsed.find("job_id");
  if (id && (id->is_string() || id->is_int())) record.job_id = id->to_plain_string();
  // Only a non-empty string is a state: a wrongly typed one proves nothing (judge: UNKNOWN).
  if (const Value* state = parsed.find("state"); state && state->is_string())
    record.state = state->as_string();
  record.start_time = scalar_text(parsed, "start_time");
  record.end_time = scalar_text(parsed, "end_time");
  if (const Value* elapsed = parsed.find("elapsed_time_sec"); elapsed && elapsed->is_number())
    record.elapsed_seconds = elapsed->as_double();
  if (doc) *doc = std::move(parsed);
  return record;
}

}  // namespace bp
