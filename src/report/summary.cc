#include "report/summary.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "config/toml_reader.h"
#include "core/job_record.h"
#include "core/judge.h"
#include "core/reward.h"
#include "core/run_folder.h"
#include "core/run_label.h"
#include "core/run_status.h"
#include "core/workload.h"
#include "report/value_json.h"
#include "sweep/param_space.h"
#include "util/files.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/text_table.h"

namespace bp {
namespace fs = std::filesystem;

namespace {

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

}  // namespace

bool any_prediction(const std::vector<RunRecord>& records) {
  return std::any_of(records.begin(), records.end(),
                     [](const RunRecord& r) { return r.prediction.has_value(); });
}

std::vector<std::string> prediction_headers() {
  return {"predicted step (s)", "step vs predicted", "predicted mem (GiB)", "max alloc (GiB)",
          "max reserved (GiB)"};
}

std::optional<double> step_time_error(const RunRecord& r) {
  std::optional<double> predicted =
      r.prediction ? r.prediction->calibrated_step_time_s() : std::nullopt;
  if (!predicted || *predicted <= 0 || !r.measured.step_time_s) return std::nullopt;
  return *r.measured.step_time_s / *predicted - 1;
}

std::vector<std::string> prediction_texts(const RunRecord& r) {
  auto text = [](std::optional<double> v, const char* format) {
    if (!v) return std::string("-");
    char buf[64];
    std::snprintf(buf, sizeof buf, format, *v);
    return std::string(buf);
  };
  const FrozenEstimate* p = r.prediction ? &*r.prediction : nullptr;
  const MeasuredMemory* m = r.measured.memory ? &*r.measured.memory : nullptr;
  std::optional<double> memory;
  if (p && p->estimate.memory) memory = p->estimate.memory->total();
  std::optional<double> error = step_time_error(r);
  return {text(p ? p->calibrated_step_time_s() : std::nullopt, "%.3f"),
          text(error ? std::optional<double>(*error * 100) : std::nullopt, "%+.1f%%"),
          text(memory, "%.1f"),
          // Measured peaks only beside a prediction: the columns compare the two.
          text(p && m ? m->max_allocated_gib : std::nullopt, "%.1f"),
          text(p && m ? m->max_reserved_gib : std::nullopt, "%.1f")};
}

std::string run_label(const RunRecord& r) {
  return run_label(r.case_id, r.iteration, r.step);
}

// Index of the best passing run per case: the highest reward (core/reward.h run_reward).
std::map<std::string, size_t> best_per_case(const std::vector<RunRecord>& records) {
  std::map<std::string, size_t> best;
  for (size_t i = 0; i < records.size(); ++i) {
    const RunRecord& r = records[i];
    if (!r.passed || !r.reward) continue;
    auto b = best.find(r.case_id);
    if (b == best.end() || *r.reward > *records[b->second].reward) best[r.case_id] = i;
  }
  return best;
}

namespace {

// The metric columns of the workloads in the table, in order of first appearance.
std::vector<ResultColumn> table_columns(const std::vector<RunRecord>& records) {
  std::vector<std::string> workloads;
  for (const RunRecord& r : records) workloads.push_back(r.workload);
  return result_columns_of(workloads);
}

}  // namespace

std::string format_results_table(const std::vector<RunRecord>& records) {
  std::vector<std::vector<std::string>> rows;
  std::vector<ResultColumn> columns = table_columns(records);
  std::vector<std::string> header = {"run", "parameters", "status"};
  for (const ResultColumn& c : columns) header.push_back(c.header);
  const bool predicted = any_prediction(records);
  if (predicted)
    for (std::string& h : prediction_headers()) header.push_back(std::move(h));
  header.push_back("job");
  rows.push_back(header);
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
    std::vector<std::string> row = {run_label(*r) + (is_best ? " *" : ""), params_text(*r),
                                    std::string(to_string(run_status(*r)))};
    for (const ResultColumn& c : columns) row.push_back(metric_text(*r, c.metric, c.decimals));
    if (predicted)
      for (std::string& t : prediction_texts(*r)) row.push_back(std::move(t));
    row.push_back(r->job_id.empty() ? "-" : r->job_id);
    if (judged) row.push_back(r->perf_verdict.empty() ? "-" : r->perf_verdict);
    rows.push_back(std::move(row));
  }
  TextTableStyle style;
  style.header_rule = TextTableStyle::HeaderRule::kTableWidth;
  std::string out = format_text_table(rows, style);
  if (!best.empty())
    out +=
        "* best passing run of its case (highest reward: agent_metrics through "
        "agent_reward_function)\n";
  if (predicted)
    out +=
        "predicted: frozen at submission (estimate.toml, calibrated step time); step vs "
        "predicted = measured / predicted - 1; max alloc/reserved: the log's peaks over ranks\n";
  return out;
}

namespace {

nlohmann::json optional_json(std::optional<double> v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// summary.json's "prediction" of a run with an estimate.toml (and what it measured of it), GiB
// and seconds; runs without one get no key, so older folders' summary.json stays as it was.
nlohmann::json prediction_json(const RunRecord& r) {
  const FrozenEstimate& p = *r.prediction;
  const MeasuredMemory m = r.measured.memory.value_or(MeasuredMemory{});
  std::optional<double> memory;
  if (p.estimate.memory) memory = p.estimate.memory->total();
  return {{"estimator_version", p.estimate.estimator_version},
          {"step_time_s", optional_json(p.calibrated_step_time_s())},
          {"raw_step_time_s", optional_json(p.estimate.step_time_s)},
          {"step_time_factor", p.step_time_factor},
          {"memory_gib", optional_json(memory)},
          {"gpu_memory_gib", optional_json(p.estimate.gpu_memory_gib)},
          {"measured",
           {{"step_time_s", optional_json(r.measured.step_time_s)},
            {"step_time_error", optional_json(step_time_error(r))},
            {"max_allocated_gib", optional_json(m.max_allocated_gib)},
            {"max_reserved_gib", optional_json(m.max_reserved_gib)},
            {"theoretical_weight_and_optimizer_gib",
             optional_json(m.theoretical_weight_and_optimizer_gib)},
            {"theoretical_total_gib", optional_json(m.theoretical_total_gib)}}}};
}

}  // namespace

void write_summary(const fs::path& root, const std::string& scenario_name,
                   const std::vector<RunRecord>& records) {
  nlohmann::json runs = nlohmann::json::array();
  int passed = 0, failed = 0, skipped = 0, unknown = 0;
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
    nlohmann::json attempts = nlohmann::json::array();
    for (const AttemptRecord& a : r.attempts) {
      nlohmann::json item = {{"job_id", a.job_id}, {"state", a.state}};
      item["exit_code"] = a.exit_code ? nlohmann::json(*a.exit_code) : nlohmann::json(nullptr);
      if (a.signal != 0) item["signal"] = a.signal;
      attempts.push_back(std::move(item));
    }
    const RunStatus st = run_status(r);
    passed += st == RunStatus::kPassed;
    failed += counts_as_failed(st);
    skipped += st == RunStatus::kSkipped;
    unknown += st == RunStatus::kUnknown;
    runs.push_back({{"case", r.case_id},
                    {"iteration", r.iteration},
                    {"step", r.step},
                    {"run_dir", fs::relative(r.run_dir, root).string()},
                    {"status", to_string(st)},
                    {"job_state", r.state},
                    {"job_id", r.job_id},
                    {"attempts", attempts},
                    {"message", r.message},
                    {"parameters", params},
                    {"metrics", metrics}});
    if (r.reward) runs.back()["reward"] = *r.reward;
    if (!r.details.is_none()) runs.back()["details"] = value_to_json(r.details);
    if (!r.perf_verdict.empty()) runs.back()["perf_verdict"] = r.perf_verdict;
    if (r.prediction) runs.back()["prediction"] = prediction_json(r);
  }
  nlohmann::json doc = {{"scenario", scenario_name}, {"results_dir", root.string()},
                        {"passed", passed},          {"failed", failed},
                        {"skipped", skipped},  // also counted in "failed"
                        {"unknown", unknown},        {"runs", runs}};
  // Logs may hold any bytes (a binary launcher log): invalid UTF-8 is replaced, never thrown on.
  write_file_atomic(root / "summary.json",
                    doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  write_file_atomic(root / "summary.txt", sanitize_utf8(format_results_table(records)));
}

namespace {

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
      : root_(root), scenario_(scenario) {}

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
      // .superseded/ holds attempts a resume replaced: not runs of this campaign.
      if (it->path().filename().string().starts_with(".")) continue;
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
    rec.state = kUnknownJobState;
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
    std::vector<std::string> agent_metrics = {"default"};
    std::string reward_function(kDefaultRewardFunction);
    std::optional<RunFolderFacts> facts;
    try {
      facts = read_run_folder_facts(dir);
    } catch (const std::exception& e) {
      // Reported, not dropped: the folder is a run whose description is damaged.
      unreadable(dir, sanitize_utf8(e.what()));
      return;
    }
    if (facts) {
      const Value& doc = facts->test_run;
      if (const Value* v = doc.find_path("test_definition.agent_metrics"); v && v->is_array()) {
        agent_metrics.clear();
        for (const Value& m : v->items()) agent_metrics.push_back(m.to_plain_string());
      }
      if (const Value* v = doc.find_path("test_definition.agent_reward_function");
          v && v->is_string())
        reward_function = v->as_string();
      rec.case_id = facts->case_id;
      rec.iteration = facts->iteration;
      rec.step = facts->step;
      if (rec.step > 0)
        if (const TestRun* base = case_of(rec.case_id)) rec.params = params_from(doc, *base);
      w = find_workload(facts->workload);
      if (!w) {
        unreadable(dir,
                   (dir / kTestRunFile).string() + ": no known test_definition.test_template_name");
        return;
      }
    } else {
      w = workload_of_run_folder(dir, nullptr);
      if (!w) return;
      if (rec.case_id.empty()) rec.case_id = fs::relative(dir, root_).string();
    }
    const RunRead read = w->read(dir);
    try {
      if (read.write_reports) read.write_reports();
    } catch (const std::exception& e) {
      log::warn("report for " + dir.string() + " failed: " + e.what());
    }
    rec.workload = std::string(w->name());
    // Read once: the verdict, the attempts and the elapsed time come from it.
    const std::optional<JobRecord> job_record = read_job_record(dir);
    FolderJudgement j = judge_run_folder(read, dir, job_record);
    rec.job_id = j.job_id;
    rec.state = j.state;
    rec.passed = j.judgement.passed;
    rec.skipped = j.judgement.skipped;
    rec.message = j.judgement.message;
    rec.message = sanitize_utf8(rec.message);
    if (!rec.passed)
      log::warn(fs::relative(dir, root_).string() + ": " + std::string(to_string(run_status(rec))) +
                ": " + rec.message);
    collect_run_results(read, agent_metrics, reward_function, rec);
    if (job_record) {
      rec.attempts = job_record->attempts;
      rec.elapsed_seconds = job_record->elapsed_seconds;
    }
    out_.push_back(std::move(rec));
  }

  fs::path root_;
  const Scenario* scenario_;
  std::vector<RunRecord> out_;
};

}  // namespace

std::vector<RunRecord> collect_results(const fs::path& root, const Scenario* scenario) {
  ResultCollector collector(root, scenario);
  collector.walk(root);
  return collector.take();
}

}  // namespace bp
