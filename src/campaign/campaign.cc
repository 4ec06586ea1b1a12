#include "campaign/campaign.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "core/workload.h"
#include "util/error.h"
#include "util/files.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/time_format.h"

namespace bp {

namespace fs = std::filesystem;

namespace {

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string utc_now() {
  return format_time(std::time(nullptr), "%Y-%m-%dT%H:%M:%SZ", TimeZone::kUtc);
}

std::string random_suffix() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(::getpid());
  return hex64(v).substr(0, 8);
}

}  // namespace

std::string case_fingerprint(const TestRun& run) {
  Value args = run.test.cmd_args;
  if (const Workload* w = find_workload(run.test.test_template_name))
    for (const std::string& secret : w->info().secret_fields) args.erase(secret);
  std::string text = "template=" + run.test.test_template_name + "\nargs=" + args.to_toml_inline() +
                     "\nenv=" + run.test.extra_env_vars.to_toml_inline() + "\nnodes=";
  for (int64_t n : run.num_nodes) text += std::to_string(n) + ",";
  text += "\nnodes_list=" + std::to_string(run.num_nodes_is_list) +
          "\niterations=" + std::to_string(run.iterations) + "\nagent=" + run.test.agent +
          "\nsteps=" + (run.test.agent_steps ? std::to_string(*run.test.agent_steps) : "-") +
          "\nagent_config=" + run.test.agent_config.to_toml_inline() +
          "\nmetrics=" + join(run.test.agent_metrics, ",") +
          "\nreward=" + run.test.agent_reward_function +
          "\nexcluded=" + join(run.test.dse_excluded_args, ",");
  for (const auto& [k, v] : run.test.extra_cmd_args) text += "\nextra=" + k + "=" + v;
  for (const Dependency& d : run.dependencies)
    text += "\ndep=" + std::string(to_string(d.type)) + ":" + d.id;
  return hex64(fnv1a(text));
}

std::unique_ptr<Campaign> Campaign::create(const fs::path& root, const Scenario& scenario,
                                           const std::map<std::string, std::string>& inputs) {
  std::unique_ptr<Campaign> c(new Campaign());
  c->root_ = root;
  c->lock_ = FolderLock::acquire(root);
  c->header_.id = root.filename().string() + "." + random_suffix();
  c->header_.scenario = scenario.name;
  c->header_.created = utc_now();
  c->header_.benchpilot_version = BENCHPILOT_VERSION;
  c->header_.inputs = inputs;
  for (const TestRun& run : scenario.runs)
    c->header_.case_fingerprints[run.id] = case_fingerprint(run);
  c->journal_ = std::make_unique<JournalWriter>(root / kJournalFile);
  c->journal_->header(c->header_);
  return c;
}

std::unique_ptr<Campaign> Campaign::reopen(const fs::path& root, const Scenario& scenario) {
  std::unique_ptr<Campaign> c(new Campaign());
  c->root_ = root;
  c->lock_ = FolderLock::acquire(root);
  c->previous_ = read_journal(root / kJournalFile);
  if (!c->previous_.header)
    throw Error(root.string() + " has no campaign journal (" + kJournalFile +
                "); only folders written by `benchpilot run` can be resumed");
  c->header_ = *c->previous_.header;
  std::vector<std::string> problems;
  std::map<std::string, std::string> now;
  for (const TestRun& run : scenario.runs) now[run.id] = case_fingerprint(run);
  for (const auto& [id, fp] : c->header_.case_fingerprints) {
    auto it = now.find(id);
    if (it == now.end())
      problems.push_back("case '" + id + "' is no longer in the scenario");
    else if (it->second != fp)
      problems.push_back("case '" + id +
                         "' changed (parameters, agent, seed, budget, "
                         "iterations or nodes), so its points are not the journal's");
  }
  for (const auto& [id, fp] : now)
    if (!c->header_.case_fingerprints.count(id))
      problems.push_back("case '" + id + "' is new in the scenario");
  if (!problems.empty())
    throw Error("cannot resume " + root.string() + ": the inputs changed since it " +
                "started:\n  " + join(problems, "\n  ") +
                "\nStart a new run instead, or restore the original inputs.");
  c->resumed_ = true;
  c->journal_ = std::make_unique<JournalWriter>(root / kJournalFile, c->previous_.valid_bytes);
  if (c->previous_.ignored_lines)
    log::info("journal: ignored " + std::to_string(c->previous_.ignored_lines) +
              " torn record(s) at its end");
  return c;
}

std::string Campaign::comment(const PointKey& k) const {
  return std::string(kCommentPrefix) + header_.id + ":" + k.str();
}

const PointState* Campaign::previous(const PointKey& k) const {
  auto it = previous_.points.find(k);
  if (it == previous_.points.end() || it->second.stage == PointStage::kCancelled) return nullptr;
  return &it->second;
}

std::vector<std::vector<int>> Campaign::previous_batches(const std::string& case_id,
                                                         int iteration) const {
  auto it = previous_.batches.find({case_id, iteration});
  if (it == previous_.batches.end()) return {};
  return it->second;
}

void Campaign::set_aside(const fs::path& run_dir, const PointKey& k) const {
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec) || fs::is_empty(run_dir, ec)) return;
  fs::path base = root_ / ".superseded" / k.case_id / std::to_string(k.iteration);
  fs::create_directories(base);
  const std::string leaf = k.step > 0 ? std::to_string(k.step) : std::string("run");
  for (int n = 1;; ++n) {
    fs::path target = base / (leaf + "-" + std::to_string(n));
    if (fs::exists(target)) continue;
    fs::rename(run_dir, target);
    log::info(k.str() + ": the earlier attempt's files are now in " + target.string());
    return;
  }
}

size_t Campaign::unfinished_previous() const {
  size_t n = 0;
  for (const auto& [k, p] : previous_.points)
    n += p.stage == PointStage::kSubmitting || p.stage == PointStage::kSubmitted;
  return n;
}

fs::path create_results_folder(const fs::path& output_path, const Scenario& scenario,
                               const std::string& stamp) {
  fs::path base = fs::absolute(output_path / (scenario.name + "_" + stamp));
  if (!is_inside(output_path, base))
    throw ConfigError(scenario.loc, "name",
                      "results folder " + base.string() + " would be outside " +
                          fs::absolute(output_path).string());
  std::error_code ec;
  fs::create_directories(output_path, ec);
  if (ec || !fs::is_directory(output_path))
    throw FileError("cannot create the output folder " + fs::absolute(output_path).string() + ": " +
                    (ec ? ec.message() : "it exists and is not a folder"));
  fs::path root = base;
  for (int n = 2; !fs::create_directory(root); ++n) root = base.string() + "_" + std::to_string(n);
  return root;
}

fs::path latest_unfinished_campaign(const fs::path& output_path, const std::string& scenario_name) {
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(output_path, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name.rfind(scenario_name + "_", 0) == 0 &&
        fs::exists(e.path() / kJournalFile))
      candidates.push_back(e.path());
  }
  std::sort(candidates.begin(), candidates.end());
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
    try {
      JournalContents c = read_journal(*it / kJournalFile);
      if (c.header && !c.complete) return *it;
    } catch (const FileError& e) {  // not a campaign to take up; the others still are
      log::warn(e.what());
    }
  }
  return {};
}

}  // namespace bp
