#include "systems/slurm/job_metadata.h"

#include <cctype>
#include <cstdlib>

namespace bp {

namespace {

Value id_value(const std::string& id) {
  bool digits = !id.empty() && id.size() < 18;
  for (char c : id) digits &= std::isdigit(static_cast<unsigned char>(c)) != 0;
  return digits ? Value::integer(std::stoll(id)) : Value::string(id);
}

std::string or_default(const std::string& value, const std::string& fallback) {
  return value.empty() ? fallback : value;
}

void add_common(Value& doc, const JobFacts& facts, const std::string& source) {
  doc.set("command", Value::string(facts.command));
  doc.set("reason", Value::string(facts.reason));
  doc.set("job_root", Value::string(facts.run_dir.string()));
  doc.set("is_single_sbatch", Value::boolean(false));
  doc.set("source", Value::string(source));
}

}  // namespace

Value job_metadata_from_sacct(const std::vector<SacctRow>& rows, const JobFacts& facts) {
  const SacctRow* job = nullptr;
  for (const SacctRow& r : rows)
    if (r.step.empty() && !job) job = &r;
  if (!job) return job_metadata_from_facts(facts);
  Value doc = Value::table();
  doc.set("job_id", id_value(job->job_id));
  doc.set("name", Value::string(or_default(job->name, facts.name)));
  doc.set("state", Value::string(or_default(job->state, facts.state)));
  doc.set("exit_code", Value::string(job->exit_code));
  doc.set("start_time", Value::string(job->start));
  doc.set("end_time", Value::string(job->end));
  doc.set("elapsed_time_sec", Value::integer(job->elapsed_sec));
  doc.set("node_list", Value::string(job->node_list));
  doc.set("submit_line", Value::string(or_default(job->submit_line, facts.submit_line)));
  add_common(doc, facts, "sacct");
  Value steps = Value::array();
  for (const SacctRow& r : rows) {
    if (r.step.empty() || r.job_id != job->job_id) continue;
    Value step = Value::table();
    step.set("job_id", id_value(r.job_id));
    step.set("step_id", Value::string(r.step));
    step.set("name", Value::string(r.name));
    step.set("state", Value::string(r.state));
    step.set("exit_code", Value::string(r.exit_code));
    step.set("start_time", Value::string(r.start));
    step.set("end_time", Value::string(r.end));
    step.set("elapsed_time_sec", Value::integer(r.elapsed_sec));
    step.set("node_list", Value::string(r.node_list));
    steps.push_back(std::move(step));
  }
  doc.set("job_steps", std::move(steps));
  return doc;
}

Value job_metadata_from_scontrol(const std::map<std::string, std::string>& kv,
                                 const JobFacts& facts) {
  auto get = [&](const char* key) {
    auto it = kv.find(key);
    return it == kv.end() ? std::string() : it->second;
  };
  if (get("JobId").empty()) return job_metadata_from_facts(facts);
  Value doc = Value::table();
  doc.set("job_id", id_value(get("JobId")));
  doc.set("name", Value::string(or_default(get("JobName"), or_default(get("Name"), facts.name))));
  doc.set("state", Value::string(or_default(get("JobState"), facts.state)));
  doc.set("exit_code", Value::string(get("ExitCode")));
  doc.set("start_time", Value::string(get("StartTime")));
  doc.set("end_time", Value::string(get("EndTime")));
  doc.set("elapsed_time_sec", Value::integer(parse_slurm_duration(get("RunTime")).value_or(0)));
  doc.set("node_list", Value::string(get("NodeList")));
  doc.set("submit_line", Value::string(facts.submit_line));
  add_common(doc, facts, "scontrol");
  return doc;
}

Value job_metadata_from_facts(const JobFacts& facts) {
  Value doc = Value::table();
  doc.set("job_id", id_value(facts.job_id));
  doc.set("name", Value::string(facts.name));
  doc.set("state", Value::string(facts.state));
  doc.set("submit_line", Value::string(facts.submit_line));
  add_common(doc, facts, "benchpilot");
  return doc;
}

void add_earlier_attempts(Value& doc, const std::vector<JobAttempt>& earlier) {
  if (earlier.empty()) return;
  Value items = Value::array();
  for (const JobAttempt& a : earlier) {
    Value item = Value::table();
    item.set("job_id", Value::string(a.id));
    item.set("state", Value::string(std::string(to_string(a.state))));
    if (a.exit_code) item.set("exit_code", Value::integer(*a.exit_code));
    if (a.signal != 0) item.set("signal", Value::integer(a.signal));
    items.push_back(std::move(item));
  }
  doc.set("earlier_attempts", std::move(items));
}

namespace {

std::vector<AttemptRecord> attempts_of(const Value& doc, const JobRecord& record) {
  std::vector<AttemptRecord> out;
  auto text = [](const Value& t, std::string_view key) {
    const Value* v = t.find(key);
    return v ? v->to_plain_string() : std::string();
  };
  if (const Value* earlier = doc.find("earlier_attempts"); earlier && earlier->is_array()) {
    for (const Value& a : earlier->items()) {
      if (!a.is_table()) continue;
      AttemptRecord r{text(a, "job_id"), text(a, "state"), std::nullopt, 0};
      if (const Value* c = a.find("exit_code"); c && c->is_int())
        r.exit_code = static_cast<int>(c->as_int());
      if (const Value* s = a.find("signal"); s && s->is_int())
        r.signal = static_cast<int>(s->as_int());
      out.push_back(std::move(r));
    }
  }
  AttemptRecord last{record.job_id, text(doc, "state"), std::nullopt, 0};
  if (last.job_id.empty()) return out;
  std::string code = text(doc, "exit_code");  // "code:signal"
  if (!code.empty() && std::isdigit(static_cast<unsigned char>(code[0]))) {
    size_t colon = code.find(':');
    last.exit_code = std::atoi(code.substr(0, colon).c_str());
    if (colon != std::string::npos) last.signal = std::atoi(code.c_str() + colon + 1);
  }
  out.push_back(std::move(last));
  return out;
}

}  // namespace

std::optional<JobRecord> read_slurm_job_record(const std::filesystem::path& run_dir) {
  Value doc;
  std::optional<JobRecord> record = read_toml_job_record(run_dir, kSlurmJobFile, &doc);
  if (record && record->unreadable.empty()) record->attempts = attempts_of(doc, *record);
  return record;
}

}  // namespace bp
