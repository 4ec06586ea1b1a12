#include "core/workload.h"

#include <algorithm>

#include "config/schema.h"
#include "util/files.h"

namespace bp {

std::string stderr_tail(const std::filesystem::path& run_dir) {
  // Up to 64 KiB: a message, not a log; blank last lines say nothing.
  std::string tail = read_last_lines(run_dir / "stderr.txt", 20, 64 * 1024);
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  return tail;
}

std::optional<int64_t> gpus_of_run(const Workload& w, const Value& test_run,
                                   std::optional<int64_t> gpus_per_node) {
  const GpuCountRule rule = w.info().gpu_count;
  if (!rule.field.empty()) {
    const Value* v = test_run.find_path("test_definition.cmd_args." + rule.field);
    if (!v) return rule.default_value;
    return lax_int(*v);
  }
  const Value* n = test_run.find("nnodes");
  if (n && n->is_int() && gpus_per_node) return n->as_int() * *gpus_per_node;
  return std::nullopt;
}

std::vector<ResultColumn> result_columns_of(const std::vector<std::string>& workloads) {
  std::vector<ResultColumn> columns;
  std::vector<const Workload*> seen;
  for (const std::string& name : workloads) {
    const Workload* w = find_workload(name);
    if (!w || std::find(seen.begin(), seen.end(), w) != seen.end()) continue;
    seen.push_back(w);
    for (const ResultColumn& c : w->info().result_columns)
      if (std::none_of(columns.begin(), columns.end(),
                       [&](const ResultColumn& o) { return o.metric == c.metric; }))
        columns.push_back(c);
  }
  return columns;
}

std::optional<ResultColumn> comparison_column(const Workload& w) {
  const std::string& name = w.info().comparison_metric;
  if (name.empty()) return std::nullopt;
  for (const ResultColumn& c : w.info().result_columns)
    if (c.metric == name) return c;
  return std::nullopt;
}

void mask_secret_fields(const Workload& w, Value& cmd_args) {
  if (!cmd_args.is_table()) return;
  for (const std::string& secret : w.info().secret_fields)
    if (Value* v = cmd_args.find(secret); v && !(v->is_string() && v->as_string().empty()))
      *v = Value::string("***", v->loc());
}

}  // namespace bp
