#include "report/summary.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "config/toml_reader.h"
#include "core/workload.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {
namespace fs = std::filesystem;

namespace {

std::string label(const RunRecord& r) {
  std::string s = r.case_id + "/" + std::to_string(r.iteration);
  if (r.step > 0) s += "/" + std::to_string(r.step);
  return s;
}

std::string status(const RunRecord& r) {
  if (r.state == "DRY-RUN") return "DRY-RUN";
  return r.passed ? "PASSED" : "FAILED";
}

std::string params_text(const RunRecord& r) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : r.params) parts.push_back(k + "=" + v.to_plain_string());
  return parts.empty() ? "-" : join(parts, " ");
}

std::string metric_text(const RunRecord& r, const std::string& name, int decimals) {
  auto it = r.metrics.find(name);
  if (it == r.metrics.end()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, it->second);
  return buf;
}

// Index of the best passing run per case: the lowest mean step time.
std::map<std::string, size_t> best_per_case(const std::vector<RunRecord>& records) {
  std::map<std::string, size_t> best;
  for (size_t i = 0; i < records.size(); ++i) {
    const RunRecord& r = records[i];
    auto it = r.metrics.find("step-time");
    if (!r.passed || it == r.metrics.end()) continue;
    auto b = best.find(r.case_id);
    if (b == best.end() || it->second < records[b->second].metrics.at("step-time"))
      best[r.case_id] = i;
  }
  return best;
}

}  // namespace

std::string format_results_table(const std::vector<RunRecord>& records) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"run", "parameters", "status", "step time (s)", "TFLOP/s/GPU", "job"});
  const bool judged = std::any_of(records.begin(), records.end(),
                                  [](const RunRecord& r) { return !r.perf_verdict.empty(); });
  if (judged) rows[0].push_back("vs reference");
  auto best = best_per_case(records);
  std::vector<const RunRecord*> sorted;
  for (const RunRecord& r : records) sorted.push_back(&r);
  std::stable_sort(sorted.begin(), sorted.end(), [](const RunRecord* a, const RunRecord* b) {
    return std::tie(a->case_id, a->iteration, a->step) <
           std::tie(b->case_id, b->iteration, b->step);
  });
  for (const RunRecord* r : sorted) {
    bool is_best = false;
    if (auto it = best.find(r->case_id); it != best.end()) is_best = &records[it->second] == r;
    rows.push_back({label(*r) + (is_best ? " *" : ""), params_text(*r), status(*r),
                    metric_text(*r, "step-time", 3), metric_text(*r, "tflops-per-gpu", 1),
                    r->job_id.empty() ? "-" : r->job_id});
    if (judged) rows.back().push_back(r->perf_verdict.empty() ? "-" : r->perf_verdict);
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t c = 0; c < rows[i].size(); ++c) {
      out += rows[i][c];
      if (c + 1 < rows[i].size()) out += std::string(width[c] - rows[i][c].size() + 2, ' ');
    }
    out += "\n";
    if (i == 0) {
      size_t total = 0;
      for (size_t w : width) total += w + 2;
      out += std::string(total - 2, '-') + "\n";
    }
  }
  if (!best.empty()) out += "* best passing run of its case (lowest step time)\n";
  return out;
}

void write_summary(const fs::path& root, const std::string& scenario_name,
                   const std::vector<RunRecord>& records) {
  nlohmann::json runs = nlohmann::json::array();
  int passed = 0, failed = 0;
  for (const RunRecord& r : records) {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : r.params) {
      if (v.is_int())
        params[k] = v.as_int();
      else if (v.is_float())
        params[k] = v.as_double();
      else if (v.is_bool())
        params[k] = v.as_bool();
      else
        params[k] = v.to_plain_string();
    }
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& [k, v] : r.metrics) metrics[k] = v;
    std::string st = status(r);
    passed += st == "PASSED";
    failed += st == "FAILED";
    runs.push_back({{"case", r.case_id},
                    {"iteration", r.iteration},
                    {"step", r.step},
                    {"run_dir", fs::relative(r.run_dir, root).string()},
                    {"status", st},
                    {"job_state", r.state},
                    {"job_id", r.job_id},
                    {"message", r.message},
                    {"parameters", params},
                    {"metrics", metrics}});
    if (!r.perf_verdict.empty()) runs.back()["perf_verdict"] = r.perf_verdict;
  }
  nlohmann::json doc = {{"scenario", scenario_name},
                        {"results_dir", root.string()},
                        {"passed", passed},
                        {"failed", failed},
                        {"runs", runs}};
  std::ofstream(root / "summary.json") << doc.dump(2) << "\n";
  std::ofstream(root / "summary.txt") << format_results_table(records);
}

std::vector<RunRecord> collect_results(const fs::path& root) {
  std::vector<RunRecord> out;
  std::vector<std::string> names = workload_names();
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (!it->is_directory()) continue;
    if (it->path().filename().string().rfind('.', 0) == 0) {  // .superseded/: replaced attempts
      it.disable_recursion_pending();
      continue;
    }
    const fs::path dir = it->path();
    const Workload* w = nullptr;
    RunRecord rec;
    rec.run_dir = dir;
    fs::path trt = dir / "test-run.toml";
    if (fs::exists(trt)) {
      try {
        Value doc = read_toml_file(trt);
        if (const Value* v = doc.find("name"); v && v->is_string()) rec.case_id = v->as_string();
        if (const Value* v = doc.find("current_iteration"); v && v->is_int())
          rec.iteration = static_cast<int>(v->as_int());
        if (const Value* v = doc.find("step"); v && v->is_int())
          rec.step = static_cast<int>(v->as_int());
        if (const Value* v = doc.find_path("test_definition.test_template_name");
            v && v->is_string())
          w = find_workload(v->as_string());
      } catch (const std::exception& e) {
        log::warn("skipping " + trt.string() + ": " + e.what());
        continue;
      }
    }
    if (!w) {
      for (const std::string& n : names) {
        const Workload* cand = find_workload(n);
        if (cand->can_handle(dir)) {
          w = cand;
          break;
        }
      }
      if (!w) continue;
      if (rec.case_id.empty()) rec.case_id = fs::relative(dir, root).string();
    }
    w->write_report(dir);
    RunVerdict v = w->verdict(dir);
    rec.passed = v.ok;
    rec.message = v.message;
    rec.state = "?";
    if (fs::exists(dir / "slurm-job.toml")) {
      try {
        Value job = read_toml_file(dir / "slurm-job.toml");
        if (const Value* s = job.find("state"); s && s->is_string()) rec.state = s->as_string();
        if (const Value* id = job.find("job_id"); id) rec.job_id = id->to_plain_string();
        if (rec.state != "COMPLETED" && rec.state != "?") rec.passed = false;
      } catch (const std::exception&) {
      }
    }
    for (const std::string& m : w->metric_names())
      if (auto val = w->metric(dir, m)) rec.metrics[m] = *val;
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace bp
