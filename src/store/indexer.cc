#include "store/indexer.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "campaign/campaign.h"
#include "core/estimate.h"
#include "core/job_record.h"
#include "core/judge.h"
#include "core/run_folder.h"
#include "core/run_status.h"
#include "core/workload.h"
#include "util/error.h"
#include "util/log.h"
#include "util/time_format.h"

namespace bp {

namespace fs = std::filesystem;

namespace {

std::string str_at(const Value& doc, std::string_view path) {
  const Value* v = doc.find_path(path);
  return v && !v->is_table() && !v->is_none() ? v->to_plain_string() : std::string();
}

void flatten(const Value& v, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (v.is_table()) {
    for (size_t i = 0; i < v.size(); ++i) flatten(v.items()[i], prefix + "." + v.keys()[i], out);
    return;
  }
  if (v.is_none()) return;
  std::string text = v.is_string() ? v.as_string() : v.to_toml_inline();
  if (text == "***") return;  // masked secret
  out.emplace_back(prefix, text);
}

// summary.json rows by absolute run dir: benchpilot's own verdicts win over recomputing them.
std::map<std::string, nlohmann::json> summary_rows(const fs::path& root) {
  std::map<std::string, nlohmann::json> out;
  std::ifstream in(root / "summary.json");
  if (!in) return out;
  try {
    nlohmann::json doc = nlohmann::json::parse(in);
    for (const auto& r : doc.at("runs"))
      out[(root / r.at("run_dir").get<std::string>()).lexically_normal().string()] = r;
  } catch (const std::exception& e) {
    log::warn((root / "summary.json").string() + ": " + e.what());
  }
  return out;
}

// A run dir has a test-run.toml (benchpilot's and CloudAI's), or a workload recognises it (its
// log without the TOML).
bool is_run_dir(const fs::path& dir) {
  return fs::exists(dir / kTestRunFile) || workload_of_run_folder(dir, nullptr) != nullptr;
}

struct FolderFacts {
  std::string campaign, scenario, system, version;
};

FolderFacts folder_facts(const fs::path& root, const IndexContext& ctx) {
  FolderFacts f{root.filename().string(), "", ctx.system_name, ctx.benchpilot_version};
  JournalContents journal = read_journal(root / kJournalFile);
  if (journal.header) {
    f.campaign = journal.header->id;
    f.scenario = journal.header->scenario;
    f.version = journal.header->benchpilot_version;
    if (auto it = journal.header->inputs.find("system_name");
        it != journal.header->inputs.end() && !it->second.empty())
      f.system = it->second;
  }
  return f;
}

// The scheduler's job record (state, id, start and end), else the folder's time as its end.
void read_job_times(const fs::path& dir, const std::optional<JobRecord>& record, StoredRun& r) {
  if (record && !record->unreadable.empty())
    log::warn((dir / record->file).string() + ": " + record->unreadable);
  if (record && record->unreadable.empty()) {
    r.state = record->state;
    r.job_id = record->job_id;
    r.start_time = record->start_time;
    r.end_time = record->end_time;
  }
  if (r.end_time.empty()) {  // no scheduler record: the folder's time will do
    std::error_code ec;
    auto t = fs::last_write_time(dir, ec);
    if (!ec)
      r.end_time =
          format_time(std::chrono::system_clock::to_time_t(std::chrono::file_clock::to_sys(t)),
                      "%Y-%m-%dT%H:%M:%S");
  }
}

// The prediction frozen in a run dir when it was submitted, and what the run measured of it (the
// workload's read). A record of this command already holds the prediction (core/judge.h
// collect_prediction): estimate.toml is read once per run and command.
void read_prediction(StoredRun& r, const RunRead& read, const fs::path& dir,
                     const RunRecord* record) {
  if (std::optional<FrozenEstimate> f = record ? record->prediction : read_frozen_estimate(dir)) {
    StoredRun::Prediction& p = r.prediction.emplace();
    p.estimator_version = f->estimate.estimator_version;
    p.step_time_s = f->estimate.step_time_s;
    p.step_time_factor = f->step_time_factor;
    if (f->estimate.memory) p.memory_gib = f->estimate.memory->total();
  }
  r.measured_step_time_s = read.measured.step_time_s;
  if (const std::optional<MeasuredMemory>& m = read.measured.memory) {
    r.max_allocated_gib = m->max_allocated_gib;
    r.max_reserved_gib = m->max_reserved_gib;
  }
}

// The verdict, metrics and samples of a run whose workload is known, and the prediction it was
// submitted with (from `record` when this command made one).
void judge_and_measure(const Workload& w, const fs::path& dir,
                       const std::optional<JobRecord>& job_record, StoredRun& r,
                       const RunRecord* record) {
  const RunRead read = w.read(dir);
  r.model = read.facts.model;
  r.gpu_type = read.facts.gpu_type;
  r.mbridge_commit = read.facts.software_commit;
  // The same verdict generate-report gives (a killed run's folder is UNKNOWN, not PASSED).
  FolderJudgement j = judge_run_folder(read, dir, job_record);
  RunRecord judged;
  judged.state = j.state;
  judged.passed = j.judgement.passed;
  judged.skipped = j.judgement.skipped;
  r.verdict = to_string(run_status(judged));
  r.message = j.judgement.message;
  r.metrics = read.metrics;
  r.metrics.erase("default");  // an alias of another metric
  r.samples = read.samples;
  std::erase_if(r.samples, [](const auto& s) { return s.second.empty(); });
  if (w.info().estimator) read_prediction(r, read, dir, record);
}

// The store's facts from test-run.toml's test definition: the workload's facts, the image, the
// GPUs and the flattened parameters (secrets left out).
void fill_from_definition(StoredRun& r, const Value& doc, const Workload* w) {
  if (const Value* def = doc.find("test_definition"); w && def) {
    if (!w->info().image_field.empty())
      r.container_image = str_at(doc, "test_definition.cmd_args." + w->info().image_field);
    if (auto gpus = gpus_of_run(*w, doc, std::nullopt)) r.num_gpus = static_cast<int>(*gpus);
  }
  if (const Value* args = doc.find_path("test_definition.cmd_args"))
    flatten(*args, "cmd_args", r.params);
  if (const Value* env = doc.find_path("test_definition.extra_env_vars"))
    flatten(*env, "extra_env_vars", r.params);
  // CloudAI writes secrets in plain text into test-run.toml: they never reach the store.
  if (w)
    for (const std::string& secret : w->info().secret_fields)
      std::erase_if(r.params, [&](const auto& p) { return p.first == "cmd_args." + secret; });
}

// What one run dir says about its run; nullopt when it cannot be read.
std::optional<StoredRun> read_run_dir(const fs::path& root, const fs::path& dir,
                                      const FolderFacts& facts, const RunRecord* record = nullptr) {
  StoredRun r;
  r.campaign = facts.campaign;
  r.results_dir = root.string();
  r.run_dir = dir.lexically_normal().string();
  r.scenario = facts.scenario;
  r.system = facts.system;
  r.benchpilot_version = facts.version;
  const Workload* w = nullptr;
  try {
    if (std::optional<RunFolderFacts> folder = read_run_folder_facts(dir)) {
      r.case_id = folder->case_id;
      r.iteration = folder->iteration;
      r.step = folder->step;
      r.workload = folder->workload;
      w = find_workload(r.workload);
      fill_from_definition(r, folder->test_run, w);
    }
  } catch (const std::exception& e) {
    log::warn("skipping " + (dir / kTestRunFile).string() + ": " + e.what());
    return std::nullopt;
  }
  if (!w) {
    w = workload_of_run_folder(dir, nullptr);
    if (w && r.workload.empty()) r.workload = std::string(w->name());
  }
  if (r.case_id.empty()) r.case_id = fs::relative(dir, root).string();
  const std::optional<JobRecord> job_record = read_job_record(dir);  // times and verdict
  read_job_times(dir, job_record, r);
  if (w) judge_and_measure(*w, dir, job_record, r, record);
  return r;
}

void apply_record(StoredRun& r, const RunRecord& rec) {
  r.verdict = to_string(run_status(rec));
  r.message = rec.message;
  if (!rec.state.empty()) r.state = rec.state;
  if (!rec.job_id.empty()) r.job_id = rec.job_id;
  r.metrics = rec.metrics;
  r.metrics.erase("default");
}

}  // namespace

std::vector<StoredRun> runs_from_results_folder(const fs::path& root_in, const IndexContext& ctx) {
  const fs::path root = fs::absolute(root_in).lexically_normal();
  if (!fs::is_directory(root)) throw FileError(root.string() + " is not a directory");
  const FolderFacts facts = folder_facts(root, ctx);
  auto rows = summary_rows(root);
  std::vector<fs::path> dirs;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (!it->is_directory()) continue;
    const std::string name = it->path().filename().string();
    // NeMo-Run's tree holds no run dirs; .superseded/ holds attempts a resume replaced.
    if (name == "experiments" || (!name.empty() && name[0] == '.')) {
      it.disable_recursion_pending();
      continue;
    }
    if (is_run_dir(it->path())) dirs.push_back(it->path());
  }
  std::sort(dirs.begin(), dirs.end());
  std::vector<StoredRun> out;
  for (const fs::path& dir : dirs) {
    std::optional<StoredRun> r = read_run_dir(root, dir, facts);
    if (!r) continue;
    if (auto row = rows.find(r->run_dir); row != rows.end()) {  // benchpilot's own verdicts win
      const nlohmann::json& j = row->second;
      r->verdict = j.value("status", "");
      r->message = j.value("message", "");
      if (!j.value("job_state", "").empty()) r->state = j.value("job_state", "");
      if (r->job_id.empty()) r->job_id = j.value("job_id", "");
      r->metrics.clear();
      const nlohmann::json metrics = j.value("metrics", nlohmann::json::object());
      for (const auto& [k, v] : metrics.items())
        if (k != "default" && v.is_number()) r->metrics[k] = v.get<double>();
    }
    if (r->verdict == to_string(RunStatus::kDryRun)) continue;
    out.push_back(std::move(*r));
  }
  return out;
}

std::vector<StoredRun> runs_from_records(const fs::path& root_in,
                                         const std::vector<RunRecord>& records,
                                         const IndexContext& ctx) {
  const fs::path root = fs::absolute(root_in).lexically_normal();
  const FolderFacts facts = folder_facts(root, ctx);
  std::vector<StoredRun> out;
  for (const RunRecord& rec : records) {
    if (run_status(rec) == RunStatus::kDryRun) continue;
    std::optional<StoredRun> r = read_run_dir(root, fs::absolute(rec.run_dir), facts, &rec);
    if (!r) continue;
    apply_record(*r, rec);
    r->case_id = rec.case_id;
    r->iteration = rec.iteration;
    r->step = rec.step;
    out.push_back(std::move(*r));
  }
  return out;
}

std::vector<fs::path> find_results_folders(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  auto is_results = [](const fs::path& p) {
    if (fs::exists(p / "summary.json") || fs::exists(p / kJournalFile)) return true;
    // CloudAI: <root>/<case>/<iteration>/[<step>/]test-run.toml
    std::error_code ec;
    for (const auto& c : fs::directory_iterator(p, ec)) {
      if (!c.is_directory()) continue;
      for (const auto& it : fs::directory_iterator(c.path(), ec))
        if (it.is_directory() && (fs::exists(it.path() / "test-run.toml") ||
                                  fs::exists(it.path() / "1" / "test-run.toml")))
          return true;
    }
    return false;
  };
  if (is_results(dir)) return {fs::absolute(dir)};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory() && is_results(e.path())) out.push_back(fs::absolute(e.path()));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace bp
