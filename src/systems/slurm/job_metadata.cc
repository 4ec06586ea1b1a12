#include "systems/slurm/job_metadata.h"

#include <cctype>

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

}  // namespace bp
