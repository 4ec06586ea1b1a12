#include "core/run_folder.h"

#include <system_error>

#include "config/toml_reader.h"
#include "core/workload.h"

namespace bp {

namespace fs = std::filesystem;

std::optional<RunFolderFacts> read_run_folder_facts(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir / kTestRunFile, ec)) return std::nullopt;
  RunFolderFacts f;
  f.test_run = read_toml_file(dir / kTestRunFile);
  if (const Value* v = f.test_run.find("name"); v && v->is_string()) f.case_id = v->as_string();
  if (const Value* v = f.test_run.find("current_iteration"); v && v->is_int())
    f.iteration = static_cast<int>(v->as_int());
  if (const Value* v = f.test_run.find("step"); v && v->is_int())
    f.step = static_cast<int>(v->as_int());
  if (const Value* v = f.test_run.find_path("test_definition.test_template_name");
      v && v->is_string())
    f.workload = v->as_string();
  return f;
}

const Workload* workload_of_run_folder(const fs::path& dir, const RunFolderFacts* facts) {
  if (facts)
    if (const Workload* w = find_workload(facts->workload)) return w;
  for (const std::string& n : workload_names())
    if (const Workload* w = find_workload(n); w && w->recognizes(dir)) return w;
  return nullptr;
}

const Workload* workload_of_run_folder(const fs::path& dir) {
  std::optional<RunFolderFacts> facts;
  try {
    facts = read_run_folder_facts(dir);
  } catch (const std::exception&) {  // damaged: the files may still say which workload
  }
  return workload_of_run_folder(dir, facts ? &*facts : nullptr);
}

}  // namespace bp
