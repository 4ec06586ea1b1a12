#include "sweep/dse_driver.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "core/estimate.h"
#include "core/workload.h"
#include "sweep/agent.h"
#include "sweep/constraints.h"
#include "sweep/param_space.h"
#include "sweep/prune_log.h"
#include "sweep/trajectory.h"
#include "util/error.h"
#include "util/files.h"
#include "util/log.h"
#include "util/strings.h"

namespace fs = std::filesystem;

namespace bp {

namespace {

SourceLoc loc_of(const TestRun& run, std::string_view key) {
  if (const Value* v = run.test.raw.find(key)) return v->loc();
  if (!run.test.loc.file.empty()) return run.test.loc;
  return run.loc;
}

double number(const Value& v, const std::string& key) {
  if (!v.is_number())
    throw ConfigError(v.loc(), key, "expected a number, got " + v.to_toml_inline());
  return v.as_double();
}

void read_agent_config(const TestRun& run, SweepSettings& s) {
  const Value& cfg = run.test.agent_config;
  if (cfg.is_none()) return;
  if (!cfg.is_table())
    throw ConfigError(loc_of(run, "agent_config"), "agent_config", "expected a table");
  for (size_t i = 0; i < cfg.size(); ++i) {
    const std::string& k = cfg.keys()[i];
    const Value& v = cfg.items()[i];
    const std::string key = "agent_config." + k;
    if (k == "random_seed") {
      if (!v.is_int() || v.as_int() < 0)
        throw ConfigError(v.loc(), key,
                          "expected a non-negative integer, got " + v.to_toml_inline());
      s.seed = static_cast<uint64_t>(v.as_int());
    } else if (k == "max_in_flight") {
      if (!v.is_int() || v.as_int() < 1)
        throw ConfigError(v.loc(), key, "expected an integer >= 1, got " + v.to_toml_inline());
      s.max_in_flight = v.as_int();
    } else if (k == "start_action") {
      // CloudAI's BaseAgentConfig field; benchpilot's agents choose their own start.
      if (!v.is_string() || (v.as_string() != "random" && v.as_string() != "first"))
        throw ConfigError(v.loc(), key, "expected \"random\" or \"first\"");
    } else if (k == "rewards") {
      if (!v.is_table()) throw ConfigError(v.loc(), key, "expected a table");
      for (size_t j = 0; j < v.size(); ++j) {
        const std::string& rk = v.keys()[j];
        if (rk == "constraint_failure")
          s.constraint_failure = number(v.items()[j], key + "." + rk);
        else if (rk == "metric_failure")
          s.metric_failure = number(v.items()[j], key + "." + rk);
        else
          throw ConfigError(v.items()[j].loc(), key + "." + rk,
                            "unknown key; expected constraint_failure or metric_failure");
      }
    } else {
      throw ConfigError(v.loc(), key,
                        "unknown key; expected one of: random_seed, max_in_flight, rewards, "
                        "start_action");
    }
  }
}

// model_guided without predictions to rank by.
ConfigError no_estimator_error(const TestRun& run) {
  return ConfigError(loc_of(run, "agent"), "agent",
                     "model_guided ranks points by predicted step time and " +
                         run.test.test_template_name +
                         " predicts none; expected grid_search, random_search or local_search");
}

// A point's outcome, shared by identical points (the run cache).
struct Outcome {
  bool done = false;
  double reward = 0;
  std::vector<double> observation;
  Feedback::Kind kind = Feedback::Kind::kFailed;
  std::optional<double> step_time_s;  // measured, for model_guided's calibration
};

class SweepDriver {
 public:
  SweepDriver(const TestRun& run, const System& system, PointRunner& runner,
              const Estimator* estimator)
      : run_(run),
        system_(system),
        runner_(runner),
        estimator_(estimator),
        settings_(read_sweep_settings(run)),
        space_(ParamSpace::of(run)),
        constraints_(compile_case_constraints(run, space_, &system)),
        ev_(constraints_) {}

  int run() {
    const fs::path dir = runner_.case_dir();
    fs::create_directories(dir);
    AgentOptions options;
    options.seed = settings_.seed;
    options.budget = settings_.budget.value_or(space_.size());
    if (settings_.agent == "model_guided") set_up_predictions(options);
    agent_ = make_agent(settings_.agent, space_, options);
    trajectory_ = std::make_unique<TrajectoryWriter>(dir / "trajectory.csv");
    pruned_ = std::make_unique<PruneLog>(space_, constraints_, dir / "pruned.csv");

    const bool grid = settings_.agent == "grid_search";
    const uint64_t budget = settings_.budget.value_or(UINT64_MAX);
    const uint64_t max_proposals =
        grid ? UINT64_MAX
             : std::max<uint64_t>(100000, std::min<uint64_t>(budget, UINT64_MAX / 2000) *
                                              kProposalsPerBudgetedPoint);
    bool agent_done = false;
    uint64_t proposals = 0;
    for (;;) {
      while (!agent_done && started_ < budget && runner_.in_flight() < runner_.max_in_flight()) {
        if (proposals++ >= max_proposals) {
          log::warn(run_.id + ": stopping after " + std::to_string(max_proposals) +
                    " proposals; most of the space is pruned or already seen");
          agent_done = true;
          break;
        }
        uint64_t p = agent_->propose();
        if (p == 0) {
          agent_done = true;
          break;
        }
        propose(p);
      }
      std::vector<PointResult> results = runner_.wait_any();
      for (const PointResult& r : results) feed_result(r);
      if (results.empty() && runner_.in_flight() == 0) {
        if (agent_done || started_ >= budget) break;
        if (runner_.max_in_flight() <= 0) break;  // nothing can ever start
      }
    }
    pruned_->flush();
    write_best();
    log::info(summary());
    log::debug(pruned_->summary(space_.size()));
    if (started_ == 0 && cache_hits_ == 0) {
      log::error(run_.id + ": no point could run: every proposed point was pruned (see " +
                 (dir / "pruned.csv").string() + ")");
      return 1;
    }
    return 0;
  }

 private:
  // model_guided ranks every point by the workload's estimate before it proposes one.
  void set_up_predictions(AgentOptions& options) {
    if (!estimator_) throw no_estimator_error(run_);
    if (space_.size() > kModelGuidedMaxPoints)
      throw ConfigError(loc_of(run_, "agent"), "agent",
                        "model_guided predicts every point first; this sweep has " +
                            std::to_string(space_.size()) + " points, expected at most " +
                            std::to_string(kModelGuidedMaxPoints));
    options.system = system_.name;
    options.predict = [this](uint64_t p) {
      std::vector<uint32_t> idx;
      space_.decode(p, idx);
      Estimate e = estimator_->estimate(apply_indices(run_, space_, idx), system_);
      PointPrediction pred;
      pred.step_time_s = e.step_time_s;
      if (e.memory && e.gpu_memory_gib)
        pred.out_of_memory =
            judge_memory(e.memory->total(), *e.gpu_memory_gib, run_.test.oom_rule).over;
      return pred;
    };
    measure_step_time_ = true;
  }

  void propose(uint64_t p) {
    space_.decode(p, idx_);
    ev_.load(idx_);
    if (uint64_t mask = ev_.violations()) {
      pruned_->add(p, idx_, mask, ev_);
      agent_->update({p, settings_.constraint_failure, Feedback::Kind::kPruned});
      return;
    }
    const uint64_t key = space_.canonical_key(idx_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      ++cache_hits_;
      if (it->second.done)
        feed_outcome(p, it->second);
      else
        waiting_[key].push_back(p);  // identical point still running: reuse its result
      return;
    }
    cache_[key] = Outcome{};
    step_key_[p] = key;
    ++started_;
    // Every point pruned before this one is on disk before this one is journaled, so after a
    // kill -9 pruned.csv holds at least what the journal implies.
    pruned_->flush();
    runner_.start(static_cast<int>(p), apply_indices(run_, space_, idx_));
  }

  void feed_result(const PointResult& r) {
    const uint64_t p = static_cast<uint64_t>(r.step);
    auto sk = step_key_.find(p);
    if (sk == step_key_.end()) return;  // not ours
    Outcome& o = cache_[sk->second];
    o.done = true;
    o.observation.clear();
    bool complete = r.ok;
    for (const std::string& m : settings_.metrics) {
      auto it = r.metrics.find(m);
      if (r.ok && it != r.metrics.end() && std::isfinite(it->second)) {
        o.observation.push_back(it->second);
      } else {
        o.observation.push_back(settings_.metric_failure);
        complete = false;
      }
    }
    // A failed point gets metric_failure directly: with "negative" a reward computed from the
    // placeholder would rank failures above real results.
    o.kind = complete ? Feedback::Kind::kOk : Feedback::Kind::kFailed;
    o.reward = complete ? settings_.reward(o.observation) : settings_.metric_failure;
    if (measure_step_time_ && r.ok) o.step_time_s = estimator_->measured(r.run_dir).step_time_s;
    if (!r.submitted) ++not_submitted_;
    if (!r.ok && r.submitted && !r.message.empty())
      log::warn(run_.id + " step " + std::to_string(p) + " failed: " + r.message);
    feed_outcome(p, o);
    auto w = waiting_.find(sk->second);
    if (w != waiting_.end()) {
      std::vector<uint64_t> dups = std::move(w->second);
      waiting_.erase(w);
      for (uint64_t d : dups) feed_outcome(d, o);
    }
  }

  void feed_outcome(uint64_t p, const Outcome& o) {
    trajectory_->add(p, space_.action(p), o.reward, o.observation);
    agent_->update({p, o.reward, o.kind, o.step_time_s});
    if (o.kind == Feedback::Kind::kOk &&
        beats_best_run(o.reward, best_ ? std::optional<double>(best_reward_) : std::nullopt)) {
      best_ = p;
      best_reward_ = o.reward;
      best_observation_ = o.observation;
    }
  }

  void write_best() {
    if (!best_) return;
    TestRun best = apply_point(run_, space_, *best_);
    Value doc = best.test.raw.is_table() && best.test.raw.size() ? best.test.raw : Value::table();
    if (!doc.size()) {
      doc.set("name", Value::string(best.test.name));
      doc.set("description", Value::string(best.test.description));
      doc.set("test_template_name", Value::string(best.test.test_template_name));
      doc.set("cmd_args", best.test.cmd_args);
      if (best.test.extra_env_vars.size()) doc.set("extra_env_vars", best.test.extra_env_vars);
    }
    if (const Workload* w = find_workload(run_.test.test_template_name))
      if (Value* args = doc.find("cmd_args")) mask_secret_fields(*w, *args);
    fs::path file = runner_.case_dir() / (run_.id + ".toml");
    try {
      write_file_atomic(file, to_toml_document(doc));
    } catch (const FileError& e) {
      log::warn(e.what());
    }
  }

  std::string summary() const {
    std::string s = run_.id + ": " + std::to_string(space_.size()) + " points, " + settings_.agent +
                    " ran " + std::to_string(started_);
    if (cache_hits_) s += " (+" + std::to_string(cache_hits_) + " cached)";
    // The per-rule breakdown is in the plan printed before the run and in pruned.csv.
    s += "; pruned " + std::to_string(pruned_->pruned()) + " (pruned.csv)";
    if (best_) {
      std::vector<std::string> metrics;
      for (size_t i = 0; i < settings_.metrics.size(); ++i)
        metrics.push_back(settings_.metrics[i] + "=" + python_float(best_observation_[i]));
      s += "\n  best: step " + std::to_string(*best_) + " (" +
           describe_action(space_.action(*best_)) + "): " + join(metrics, " ") + ", reward " +
           python_float(best_reward_) + " -> " + run_.id + ".toml";
    } else if (not_submitted_ == 0) {
      s += "\n  no point produced the metrics " + join(settings_.metrics, ", ");
    }
    return s;
  }

  const TestRun& run_;
  const System& system_;
  PointRunner& runner_;
  const Estimator* estimator_;      // the workload's, when it predicts
  bool measure_step_time_ = false;  // model_guided calibrates on measured step times
  SweepSettings settings_;
  ParamSpace space_;
  CompiledConstraints constraints_;
  CompiledConstraints::Evaluator ev_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<TrajectoryWriter> trajectory_;
  std::unique_ptr<PruneLog> pruned_;
  std::vector<uint32_t> idx_;
  std::unordered_map<uint64_t, Outcome> cache_;                  // canonical key -> outcome
  std::unordered_map<uint64_t, uint64_t> step_key_;              // started step -> key
  std::unordered_map<uint64_t, std::vector<uint64_t>> waiting_;  // key -> duplicate steps
  uint64_t started_ = 0;
  uint64_t not_submitted_ = 0;  // points generated but never submitted (dry-run)
  uint64_t cache_hits_ = 0;
  std::optional<uint64_t> best_;
  double best_reward_ = 0;
  std::vector<double> best_observation_;
};

}  // namespace

SweepSettings read_sweep_settings(const TestRun& run) {
  const TestDefinition& t = run.test;
  SweepSettings s;
  s.agent = t.agent.empty() ? "grid_search" : t.agent;
  std::vector<std::string> agents = agent_names();
  if (std::find(agents.begin(), agents.end(), s.agent) == agents.end())
    throw ConfigError(loc_of(run, "agent"), "agent",
                      "unknown agent \"" + s.agent + "\"; expected one of: " + join(agents, ", "));
  if (t.agent_steps) {
    if (*t.agent_steps < 1)
      throw ConfigError(loc_of(run, "agent_steps"), "agent_steps",
                        "expected an integer >= 1, got " + std::to_string(*t.agent_steps));
    s.budget = static_cast<uint64_t>(*t.agent_steps);
  } else if (s.agent != "grid_search") {
    s.budget = kDefaultAgentBudget;
  }
  read_agent_config(run, s);
  s.reward_function = t.agent_reward_function.empty() ? std::string(kDefaultRewardFunction)
                                                      : t.agent_reward_function;
  s.reward = find_reward_function(s.reward_function);
  if (!s.reward)
    throw ConfigError(loc_of(run, "agent_reward_function"), "agent_reward_function",
                      "unknown reward function \"" + s.reward_function +
                          "\"; expected one of: " + join(reward_function_names(), ", "));
  if (!t.agent_metrics.empty()) s.metrics = t.agent_metrics;
  if (const Workload* w = find_workload(t.test_template_name)) {
    if (s.agent == "model_guided" && !w->info().estimator) throw no_estimator_error(run);
    std::vector<std::string> known = w->info().metric_names;
    for (const std::string& m : s.metrics)
      if (std::find(known.begin(), known.end(), m) == known.end())
        throw ConfigError(loc_of(run, "agent_metrics"), "agent_metrics",
                          "\"" + m + "\" is not a metric of " + t.test_template_name +
                              "; expected some of: " + join(known, ", "));
  }
  return s;
}

bool is_sweep(const TestRun& run) {
  return ParamSpace::of(run).is_sweep();
}

int run_sweep(const TestRun& run, const System& system, PointRunner& runner) {
  const Workload* w = find_workload(run.test.test_template_name);
  return run_sweep(run, system, runner, w ? w->info().estimator : nullptr);
}

int run_sweep(const TestRun& run, const System& system, PointRunner& runner,
              const Estimator* estimator) {
  SweepDriver driver(run, system, runner, estimator);
  return driver.run();
}

}  // namespace bp
