#include "sweep/dse_driver.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/toml_reader.h"
#include "core/reward.h"
#include "sweep/agent.h"
#include "sweep/param_space.h"
#include "testkit/testkit.h"

namespace fs = std::filesystem;

namespace bp {
namespace {

using testkit::read_file;

// Runs points "instantly" through an objective; results come back in start order, at most
// max_in_flight at a time.
class FakeRunner : public PointRunner {
 public:
  using Objective = std::function<std::optional<double>(const TestRun&)>;
  FakeRunner(fs::path dir, Objective f, int max_in_flight = 1, bool dry = false)
      : dir_(std::move(dir)), f_(std::move(f)), max_(max_in_flight), dry_(dry) {
    fs::create_directories(dir_);
  }
  void start(int step, const TestRun& point) override {
    fs::create_directories(dir_ / std::to_string(step));
    steps.push_back(step);
    PointResult r;
    r.step = step;
    r.run_dir = dir_ / std::to_string(step);
    std::optional<double> m = dry_ ? std::nullopt : f_(point);
    r.ok = m.has_value();
    r.submitted = !dry_;
    if (m) r.metrics["default"] = *m;
    pending_.push_back(r);
  }
  std::vector<PointResult> wait_any() override {
    std::vector<PointResult> out;
    if (!pending_.empty()) {
      out.push_back(pending_.front());
      pending_.pop_front();
    }
    return out;
  }
  int in_flight() const override { return static_cast<int>(pending_.size()); }
  int max_in_flight() const override { return max_; }
  fs::path case_dir() const override { return dir_; }

  std::vector<int> steps;

 private:
  fs::path dir_;
  Objective f_;
  std::deque<PointResult> pending_;
  int max_;
  bool dry_;
};

TestRun synthetic(const std::string& cmd_args, const std::string& extra = "") {
  TestRun run;
  run.id = "case";
  run.test.name = "synthetic";
  run.test.test_template_name = "Synthetic";  // no workload, no constraints
  run.test.cmd_args = read_toml_string(cmd_args, "test.toml");
  Value raw = read_toml_string("name = 'synthetic'\ntest_template_name = 'Synthetic'\n" + extra,
                               "test.toml");
  raw.set("cmd_args", run.test.cmd_args);
  run.test.raw = raw;
  return run;
}

int64_t arg(const TestRun& p, const char* k) {
  return p.test.cmd_args.find(k)->as_int();
}

TEST(Rewards, FunctionsAndNames) {
  EXPECT_DOUBLE_EQ(find_reward_function("inverse")({4.0}), 0.25);
  EXPECT_DOUBLE_EQ(find_reward_function("inverse")({0.0}), 0.0);
  EXPECT_DOUBLE_EQ(find_reward_function("inverse")({}), 0.0);
  EXPECT_DOUBLE_EQ(find_reward_function("negative")({4.0}), -4.0);
  EXPECT_DOUBLE_EQ(find_reward_function("identity")({4.0, 1.0}), 4.0);
  EXPECT_DOUBLE_EQ(find_reward_function("identity")({}), 0.0);
  EXPECT_EQ(find_reward_function("bogus"), nullptr);
}

TEST(Rewards, UnknownRewardFunctionListsTheThree) {
  TestRun run = synthetic("x = [1, 2]\n", "agent_reward_function = 'fastest'\n");
  run.test.agent_reward_function = "fastest";
  try {
    read_sweep_settings(run);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "test.toml:3: agent_reward_function: unknown reward function \"fastest\"; "
                 "expected one of: inverse, negative, identity");
  }
}

TEST(Settings, UnknownAgentAndConfigKeys) {
  TestRun run = synthetic("x = [1, 2]\n");
  run.test.agent = "genetic";
  try {
    read_sweep_settings(run);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "unknown agent \"genetic\"; expected one of: grid_search, random_search, "
                  "local_search"),
              std::string::npos);
  }
  run.test.agent = "random_search";
  run.test.agent_config = read_toml_string("random_seed = 7\nseed = 3\n", "cfg.toml");
  EXPECT_THROW(read_sweep_settings(run), ConfigError);
  run.test.agent_config =
      read_toml_string("random_seed = 7\n[rewards]\nconstraint_failure = -5\n", "cfg.toml");
  SweepSettings s = read_sweep_settings(run);
  EXPECT_EQ(s.seed, 7u);
  EXPECT_DOUBLE_EQ(s.constraint_failure, -5.0);
  EXPECT_DOUBLE_EQ(s.metric_failure, -1.0);
  EXPECT_EQ(s.budget, kDefaultAgentBudget);
  run.test.agent = "grid_search";
  EXPECT_FALSE(read_sweep_settings(run).budget.has_value());  // grid: all points
  run.test.agent_steps = 3;
  EXPECT_EQ(read_sweep_settings(run).budget, 3u);
}

TEST(Driver, GridRunsEveryPointInOrderAndWritesTrajectory) {
  testkit::TempDir dir;
  TestRun run = synthetic("tp = [1, 2]\npp = [1, 2, 4]\n");
  FakeRunner runner(dir, [](const TestRun& p) { return 10.0 / (arg(p, "tp") * arg(p, "pp")); });
  EXPECT_EQ(run_sweep(run, System{}, runner), 0);
  EXPECT_EQ(runner.steps, (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(read_file(dir / "trajectory.csv"),
            "step,action,reward,observation\n"
            "1,\"{'tp': 1, 'pp': 1}\",0.1,[10.0]\n"
            "2,\"{'tp': 1, 'pp': 2}\",0.2,[5.0]\n"
            "3,\"{'tp': 1, 'pp': 4}\",0.4,[2.5]\n"
            "4,\"{'tp': 2, 'pp': 1}\",0.2,[5.0]\n"
            "5,\"{'tp': 2, 'pp': 2}\",0.4,[2.5]\n"
            "6,\"{'tp': 2, 'pp': 4}\",0.8,[1.25]\n");
  // Best configuration: the test's table with the best point applied.
  std::string best = read_file(dir / "case.toml");
  EXPECT_NE(best.find("tp = 2"), std::string::npos) << best;
  EXPECT_NE(best.find("pp = 4"), std::string::npos) << best;
  EXPECT_NE(best.find("name = \"synthetic\""), std::string::npos) << best;
}

TEST(Driver, GridHonoursAgentStepsOnlyWhenSet) {
  testkit::TempDir dir;
  TestRun run = synthetic("tp = [1, 2, 3, 4, 5]\n");
  run.test.agent_steps = 2;
  FakeRunner runner(dir, [](const TestRun&) { return 1.0; });
  run_sweep(run, System{}, runner);
  EXPECT_EQ(runner.steps, (std::vector<int>{1, 2}));
}

TEST(Driver, CacheRunsIdenticalPointsOnce) {
  // CloudAI's test_dse_run_cache: candidate = [1, 1, 2]; step 2 reuses step 1's result.
  testkit::TempDir dir;
  TestRun run = synthetic("candidate = [1, 1, 2]\n");
  int calls = 0;
  FakeRunner runner(dir, [&](const TestRun&) {
    ++calls;
    return std::optional<double>();  // no metric: metric_failure
  });
  run_sweep(run, System{}, runner);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(runner.steps, (std::vector<int>{1, 3}));
  EXPECT_TRUE(fs::exists(dir / "1"));
  EXPECT_FALSE(fs::exists(dir / "2"));
  EXPECT_EQ(read_file(dir / "trajectory.csv"),
            "step,action,reward,observation\n"
            "1,{'candidate': 1},-1.0,[-1.0]\n"
            "2,{'candidate': 1},-1.0,[-1.0]\n"
            "3,{'candidate': 2},-1.0,[-1.0]\n");
  EXPECT_FALSE(fs::exists(dir / "case.toml"));  // nothing succeeded
}

TEST(Driver, CacheWaitsForAnIdenticalPointInFlight) {
  testkit::TempDir dir;
  TestRun run = synthetic("candidate = [5, 5, 5]\n");
  int calls = 0;
  FakeRunner runner(
      dir,
      [&](const TestRun&) {
        ++calls;
        return 2.0;
      },
      /*max_in_flight=*/4);
  run_sweep(run, System{}, runner);
  EXPECT_EQ(calls, 1);
  std::string t = read_file(dir / "trajectory.csv");
  EXPECT_NE(t.find("1,{'candidate': 5},0.5,[2.0]"), std::string::npos) << t;
  EXPECT_NE(t.find("2,{'candidate': 5},0.5,[2.0]"), std::string::npos) << t;
  EXPECT_NE(t.find("3,{'candidate': 5},0.5,[2.0]"), std::string::npos) << t;
}

TEST(Driver, PrunedPointsGetNoJobAndAreRecorded) {
  testkit::TempDir dir;
  TestRun run;
  run.id = "mb";
  run.test.name = "mb";
  run.test.test_template_name = "MegatronBridge";
  run.test.cmd_args = read_toml_string(
      "model_recipe_name = 'llama3_8b'\nnum_gpus = 8\ntp = [1, 2, 3]\npp = [1, 3]\n", "mb.toml");
  FakeRunner runner(
      dir, [](const TestRun&) { return 1.0; }, 1, /*dry=*/true);
  EXPECT_EQ(run_sweep(run, System{}, runner), 0);
  // Valid: (tp 1, pp 1) = step 1, (tp 2, pp 1) = step 3. tp=3 fails C1 and M1; pp=3 fails C1, M4.
  EXPECT_EQ(runner.steps, (std::vector<int>{1, 3}));
  std::string csv = read_file(dir / "pruned.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "step,tp,pp,rule_ids,messages");
  EXPECT_NE(csv.find("\n2,1,3,C1;M4,num_gpus=8 is not divisible by tp*pp*cp=3 (tp=1 pp=3 cp=1); "
                     "num_layers=32 is not divisible by pp=3\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\n5,3,1,C1;M1;M2,"), std::string::npos) << csv;
  // Four pruned rows.
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
}

TEST(Driver, EverythingPrunedIsAnError) {
  testkit::TempDir dir;
  TestRun run;
  run.id = "mb";
  run.test.test_template_name = "MegatronBridge";
  run.test.cmd_args =
      read_toml_string("model_recipe_name = 'llama3_8b'\nnum_gpus = 8\ntp = [3, 5]\n", "mb.toml");
  FakeRunner runner(dir, [](const TestRun&) { return 1.0; });
  EXPECT_EQ(run_sweep(run, System{}, runner), 1);
  EXPECT_TRUE(runner.steps.empty());
  EXPECT_EQ(read_file(dir / "trajectory.csv"), "step,action,reward,observation\n");
}

// The best point's TOML masks the secret fields its workload declares (Workload::secret_fields;
// Megatron-Bridge: hf_token, wandb_key) through core's one masking function.
TEST(Driver, BestConfigMasksSecrets) {
  testkit::TempDir dir;
  TestRun run = synthetic("hf_token = 'hf_secret_value'\nwandb_key = 'wk'\nmb = [1, 2]\n");
  run.test.test_template_name = "MegatronBridge";
  FakeRunner runner(dir, [](const TestRun& p) { return 1.0 * arg(p, "mb"); });
  run.test.agent_reward_function = "identity";
  run_sweep(run, System{}, runner);
  std::string best = read_file(dir / "case.toml");
  EXPECT_EQ(best.find("hf_secret_value"), std::string::npos) << best;
  EXPECT_EQ(best.find("\"wk\""), std::string::npos) << best;
  EXPECT_NE(best.find("hf_token = \"***\""), std::string::npos) << best;
  EXPECT_NE(best.find("mb = 2"), std::string::npos) << best;
}

TEST(Driver, RandomSearchIsSeededAndBudgeted) {
  TestRun run = synthetic("a = [1, 2, 3, 4, 5, 6, 7, 8]\nb = [1, 2, 3, 4, 5, 6, 7, 8]\n");
  run.test.agent = "random_search";
  run.test.agent_steps = 10;
  auto steps_for = [&](int seed, const std::string& name) {
    run.test.agent_config = Value::table();
    run.test.agent_config.set("random_seed", Value::integer(seed));
    testkit::TempDir dir(name);
    FakeRunner runner(dir, [](const TestRun&) { return 1.0; });
    run_sweep(run, System{}, runner);
    return runner.steps;
  };
  std::vector<int> a = steps_for(1, "rs_a"), b = steps_for(1, "rs_b"), c = steps_for(2, "rs_c");
  EXPECT_EQ(a.size(), 10u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::set<int> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), 10u);
}

// A smooth synthetic objective over 6 axes of 10 values: "step time" grows with the squared
// distance from an optimum at (7, 2, 5, 8, 1, 4).
double step_time(const TestRun& p) {
  const int64_t opt[] = {7, 2, 5, 8, 1, 4};
  const char* names[] = {"a", "b", "c", "d", "e", "f"};
  double d = 0;
  for (int i = 0; i < 6; ++i) {
    double x = static_cast<double>(arg(p, names[i]) - opt[i]);
    d += x * x;
  }
  return 1.0 + d;
}

double best_found(const std::string& agent, int seed, int budget) {
  std::string axis = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]";
  TestRun run = synthetic("a = " + axis + "\nb = " + axis + "\nc = " + axis + "\nd = " + axis +
                          "\ne = " + axis + "\nf = " + axis + "\n");
  run.test.agent = agent;
  run.test.agent_steps = budget;
  run.test.agent_config = Value::table();
  run.test.agent_config.set("random_seed", Value::integer(seed));
  double best = 1e9;
  testkit::TempDir dir;
  FakeRunner runner(dir, [&](const TestRun& p) {
    double t = step_time(p);
    best = std::min(best, t);
    return t;
  });
  run_sweep(run, System{}, runner);
  EXPECT_EQ(runner.steps.size(), static_cast<size_t>(budget));
  return best;
}

TEST(Agents, AdaptiveBeatsRandomOnTheSameBudget) {
  const int kSeeds = 10, kBudget = 40;
  double random_total = 0, adaptive_total = 0;
  int adaptive_wins = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    double r = best_found("random_search", seed, kBudget);
    double l = best_found("local_search", seed, kBudget);
    random_total += r;
    adaptive_total += l;
    adaptive_wins += l < r;
  }
  // Mean best step time over the seeds: lower is better.
  EXPECT_LT(adaptive_total / kSeeds, 0.5 * random_total / kSeeds)
      << "local_search " << adaptive_total / kSeeds << " vs random " << random_total / kSeeds;
  EXPECT_GE(adaptive_wins, 8);
  std::printf("mean best step time over %d seeds, budget %d: local_search %.2f, random %.2f\n",
              kSeeds, kBudget, adaptive_total / kSeeds, random_total / kSeeds);
}

TEST(Agents, GridProposesAllInOrderAndStops) {
  TestRun run = synthetic("a = [1, 2, 3]\n");
  ParamSpace space(run, std::vector<std::string>{});
  auto grid = make_agent("grid_search", space, {});
  EXPECT_EQ(grid->propose(), 1u);
  EXPECT_EQ(grid->propose(), 2u);
  EXPECT_EQ(grid->propose(), 3u);
  EXPECT_EQ(grid->propose(), 0u);
  EXPECT_EQ(make_agent("nope", space, {}), nullptr);
}

TEST(Agents, RandomAndLocalExhaustSmallSpaces) {
  TestRun run = synthetic("a = [1, 2, 3]\nb = [1, 2]\n");
  ParamSpace space(run, std::vector<std::string>{});
  for (const char* name : {"random_search", "local_search"}) {
    auto agent = make_agent(name, space, {});
    std::set<uint64_t> seen;
    for (uint64_t p; (p = agent->propose()) != 0;) {
      EXPECT_TRUE(seen.insert(p).second) << name;
      agent->update({p, static_cast<double>(p), Feedback::Kind::kOk});
    }
    EXPECT_EQ(seen.size(), 6u) << name;
  }
}

TEST(Driver, DryRunCreatesOnlyValidStepsAndNoBestConfig) {
  testkit::TempDir dir;
  TestRun run;
  run.id = "mb";
  run.test.name = "mb";
  run.test.test_template_name = "MegatronBridge";
  run.test.cmd_args = read_toml_string(
      "model_recipe_name = 'qwen3_30b_a3b'\nnum_gpus = 8\nep = [1, 3, 8]\nmb = [1, 2]\n"
      "gb = [8, 16]\n",
      "mb.toml");
  FakeRunner runner(
      dir, [](const TestRun&) { return 1.0; }, 1, /*dry=*/true);
  run_sweep(run, System{}, runner);
  // ep=3 is pruned (M3); gb 8 % (mb 2 * dp 8) fails C4.
  const std::set<int> valid = {1, 2, 4, 9, 10, 12};
  EXPECT_EQ(runner.steps, std::vector<int>(valid.begin(), valid.end()));
  for (int s = 1; s <= 12; ++s)
    EXPECT_EQ(fs::exists(dir / std::to_string(s)), valid.count(s) > 0) << s;
  EXPECT_TRUE(fs::exists(dir / "pruned.csv"));
  EXPECT_FALSE(fs::exists(dir / "mb.toml"));
}

}  // namespace
}  // namespace bp
