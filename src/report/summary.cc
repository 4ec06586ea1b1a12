#include "report/summary.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>

#include "config/toml_reader.h"
#include "core/workload.h"
#include "sweep/param_space.h"
#include "util/files.h"
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
  if (r.state == "UNKNOWN" && !r.passed) return "UNKNOWN";
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
  int passed = 0, failed = 0, unknown = 0;
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
    unknown += st == "UNKNOWN";
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
  }
  nlohmann::json doc = {{"scenario", scenario_name}, {"results_dir", root.string()},
                        {"passed", passed},          {"failed", failed},
                        {"unknown", unknown},        {"runs", runs}};
  // Logs may hold any bytes (a binary launcher log): invalid UTF-8 is replaced, never thrown on.
  write_file_atomic(root / "summary.json",
                    doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  write_file_atomic(root / "summary.txt", sanitize_utf8(format_results_table(records)));
}

namespace {

// The files a run's job state is kept in, by executor.
constexpr const char* kJobStateFiles[] = {"slurm-job.toml", "standalone-job.toml"};

// The job state of a run folder, or why it is unknown. A run passes only when its job is known
// to have COMPLETED: a folder from a killed run has no state file, and an empty, garbage or
// wrongly typed one proves nothing.
struct JobStateRead {
  std::string state;  // "" when unknown
  std::string job_id;
  std::string problem;  // why the state is unknown
};

JobStateRead read_job_state(const fs::path& dir) {
  JobStateRead out;
  std::error_code ec;
  for (const char* name : kJobStateFiles) {
    fs::path file = dir / name;
    if (!fs::exists(file, ec)) continue;
    try {
      Value job = read_toml_file(file);
      const Value* s = job.find("state");
      if (!s || !s->is_string() || s->as_string().empty() || has_control_char(s->as_string())) {
        out.problem = std::string(name) + " has no job state (a non-empty string 'state')";
        return out;
      }
      out.state = s->as_string();
      if (const Value* id = job.find("job_id"); id && (id->is_int() || id->is_string()))
        out.job_id = id->to_plain_string();
    } catch (const std::exception& e) {
      out.problem = std::string(name) + " is unreadable: " + e.what();
    }
    return out;
  }
  out.problem = "no job state recorded (no slurm-job.toml): the run may have been killed";
  return out;
}

// The swept values of a point, from the case's axes and the point's resolved test (what
// test-run.toml holds), so generate-report keeps the parameters the run wrote.
std::vector<std::pair<std::string, Value>> params_from(const Value& test_run, const TestRun& base) {
  std::vector<std::pair<std::string, Value>> out;
  ParamSpace space = ParamSpace::of(base);
  const Value* def = test_run.find("test_definition");
  for (const Axis& axis : space.axes()) {
    const Value* v = nullptr;
    switch (axis.target) {
      case Axis::Target::kCmdArg:
        if (def)
          if (const Value* args = def->find("cmd_args")) v = args->find_path(axis.key);
        break;
      case Axis::Target::kEnvVar:
        if (def)
          if (const Value* env = def->find("extra_env_vars")) v = env->find(axis.key);
        break;
      case Axis::Target::kNumNodes:
        v = test_run.find("nnodes");
        break;
    }
    if (v && !v->is_table() && !v->is_array()) out.emplace_back(axis.name, *v);
  }
  return out;
}

class ResultCollector {
 public:
  ResultCollector(const fs::path& root, const Scenario* scenario)
      : root_(root), scenario_(scenario), names_(workload_names()) {}

  std::vector<RunRecord> take() { return std::move(out_); }

  // Depth-first, in name order; a folder that cannot be listed becomes a FAILED record
  // instead of aborting the whole report.
  void walk(const fs::path& dir) {
    std::error_code ec;
    std::vector<fs::path> children;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      unreadable(dir, "cannot read folder: " + ec.message());
      return;
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      std::error_code ec2;
      if (it->is_directory(ec2) && !it->is_symlink(ec2)) children.push_back(it->path());
    }
    if (ec) unreadable(dir, "cannot read folder: " + ec.message());
    std::sort(children.begin(), children.end());
    for (const fs::path& child : children) {
      try {
        visit(child);
      } catch (const std::exception& e) {
        unreadable(child, e.what());
      }
      walk(child);
    }
  }

 private:
  void unreadable(const fs::path& dir, const std::string& why) {
    RunRecord rec;
    rec.run_dir = dir;
    rec.case_id = fs::relative(dir, root_).string();
    rec.state = "UNKNOWN";
    rec.message = sanitize_utf8(why);
    log::warn(dir.string() + ": " + rec.message);
    out_.push_back(std::move(rec));
  }

  const TestRun* case_of(const std::string& id) const {
    if (!scenario_) return nullptr;
    for (const TestRun& r : scenario_->runs)
      if (r.id == id) return &r;
    return nullptr;
  }

  void visit(const fs::path& dir) {
    const Workload* w = nullptr;
    RunRecord rec;
    rec.run_dir = dir;
    fs::path trt = dir / "test-run.toml";
    std::error_code ec;
    if (fs::exists(trt, ec)) {
      Value doc;
      try {
        doc = read_toml_file(trt);
      } catch (const std::exception& e) {
        // Reported, not dropped: the folder is a run whose description is damaged.
        unreadable(dir, sanitize_utf8(e.what()));
        return;
      }
      if (const Value* v = doc.find("name"); v && v->is_string()) rec.case_id = v->as_string();
      if (const Value* v = doc.find("current_iteration"); v && v->is_int())
        rec.iteration = static_cast<int>(v->as_int());
      if (const Value* v = doc.find("step"); v && v->is_int())
        rec.step = static_cast<int>(v->as_int());
      if (const Value* v = doc.find_path("test_definition.test_template_name"); v && v->is_string())
        w = find_workload(v->as_string());
      if (rec.step > 0)
        if (const TestRun* base = case_of(rec.case_id)) rec.params = params_from(doc, *base);
      if (!w) {
        unreadable(dir, trt.string() + ": no known test_definition.test_template_name");
        return;
      }
    }
    if (!w) {
      for (const std::string& n : names_) {
        const Workload* cand = find_workload(n);
        if (cand->can_handle(dir)) {
          w = cand;
          break;
        }
      }
      if (!w) return;
      if (rec.case_id.empty()) rec.case_id = fs::relative(dir, root_).string();
    }
    try {
      w->write_report(dir);
    } catch (const std::exception& e) {
      log::warn("report for " + dir.string() + " failed: " + e.what());
    }
    RunVerdict v = w->verdict(dir);
    JobStateRead job = read_job_state(dir);
    rec.job_id = job.job_id;
    if (job.state.empty()) {
      rec.state = "UNKNOWN";
      rec.passed = false;
      rec.message = job.problem + (v.ok || v.message.empty() ? "" : "\n" + v.message);
    } else {
      rec.state = job.state;
      rec.passed = v.ok && job.state == "COMPLETED";
      if (!v.ok)
        rec.message = v.message;
      else if (!rec.passed)
        rec.message = "job ended " + job.state;
    }
    rec.message = sanitize_utf8(rec.message);
    if (!rec.passed)
      log::warn(fs::relative(dir, root_).string() + ": " + status(rec) + ": " + rec.message);
    for (const std::string& m : w->metric_names())
      if (auto val = w->metric(dir, m)) rec.metrics[m] = *val;
    out_.push_back(std::move(rec));
  }

  fs::path root_;
  const Scenario* scenario_;
  std::vector<std::string> names_;
  std::vector<RunRecord> out_;
};

}  // namespace

std::vector<RunRecord> collect_results(const fs::path& root, const Scenario* scenario) {
  ResultCollector collector(root, scenario);
  collector.walk(root);
  return collector.take();
}

}  // namespace bp
