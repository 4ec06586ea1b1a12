#include "report/results_data.h"

#include <algorithm>
#include <cstdio>

#include "config/python_repr.h"
#include "core/job_record.h"
#include "core/run_folder.h"
#include "core/run_status.h"
#include "core/workload.h"
#include "util/files.h"
#include "util/strings.h"

namespace bp {
namespace fs = std::filesystem;

void fill_params_from_trajectories(std::vector<RunRecord>& records) {
  std::map<fs::path, std::map<int, std::string>> actions;  // case dir -> step -> action
  for (RunRecord& r : records) {
    if (r.step <= 0 || !r.params.empty()) continue;
    fs::path dir = r.run_dir.parent_path();
    auto it = actions.find(dir);
    if (it == actions.end()) {
      std::map<int, std::string> steps;
      for (const TrajectoryRow& t : read_trajectory(dir)) steps[t.step] = t.action;
      it = actions.emplace(dir, std::move(steps)).first;
    }
    if (auto a = it->second.find(r.step); a != it->second.end())
      r.params = parse_python_dict_repr(a->second);
  }
}

std::string failure_text(const RunRecord& r) {
  if (r.passed || run_status(r) == RunStatus::kDryRun) return {};
  if (!trim(r.message).empty()) return r.message;
  std::string text = "job " + (r.job_id.empty() ? std::string("(no id)") : r.job_id) + " ended " +
                     (r.state.empty() ? std::string("?") : r.state);
  if (const Workload* w = workload_of_run_folder(r.run_dir)) {
    std::string details = w->read(r.run_dir).failure_details;
    if (!trim(details).empty()) text += "\n" + details;
  }
  return text;
}

std::optional<double> job_elapsed_seconds(const RunRecord& r) {
  if (r.elapsed_seconds) return r.elapsed_seconds;
  std::optional<JobRecord> record = read_job_record(r.run_dir);
  return record ? record->elapsed_seconds : std::nullopt;
}

std::optional<int64_t> run_gpus(const fs::path& run_dir, std::optional<int64_t> gpus_per_node) {
  std::optional<RunFolderFacts> facts;
  try {
    facts = read_run_folder_facts(run_dir);
  } catch (const std::exception&) {  // a damaged description: the GPUs are unknown
  }
  if (!facts) return std::nullopt;
  const Workload* w = workload_of_run_folder(run_dir, &*facts);
  if (!w) return std::nullopt;
  return gpus_of_run(*w, facts->test_run, gpus_per_node);
}

std::vector<fs::path> run_files(const fs::path& run_dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::directory_iterator(run_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path());
  }
  auto rank = [](const fs::path& p) {
    std::string n = p.filename().string();
    if (n.ends_with(".log") || n == "stdout.txt" || n == "stderr.txt") return 0;
    if (n == "report.txt" || n.ends_with(".json")) return 1;
    if (n == kTestRunFile || is_job_record_file(n)) return 2;
    return 3;  // generated scripts and the like: reachable through the run folder link
  };
  std::erase_if(files, [&](const fs::path& p) { return rank(p) > 2; });
  std::sort(files.begin(), files.end(), [&](const fs::path& a, const fs::path& b) {
    return std::make_pair(rank(a), a.filename()) < std::make_pair(rank(b), b.filename());
  });
  return files;
}

std::string url_path(const fs::path& relative) {
  std::string out;
  for (unsigned char c : relative.generic_string()) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '_' || c == '~' || c == '/' || c == '-') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace bp
