// The model-guided agent alone (predictions and measured times handed in directly) and through
// the sweep driver with a stand-in estimator: order, out-of-memory skipping, re-ranking,
// agent_steps and replay.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <map>
#include <set>

#include "config/toml_reader.h"
#include "core/estimate.h"
#include "core/scenario.h"
#include "core/system.h"
#include "sweep/agent.h"
#include "sweep/dse_driver.h"
#include "sweep/param_space.h"
#include "testkit/testkit.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace bp {
namespace {

TestRun synthetic(const std::string& cmd_args, const std::string& extra = "") {
  TestRun run;
  run.id = "case";
  run.test.name = "synthetic";
  run.test.test_template_name = "Synthetic";  // no workload: the tests hand in the estimator
  run.test.cmd_args = read_toml_string(cmd_args, "test.toml");
  Value raw = read_toml_string("name = 'synthetic'\ntest_template_name = 'Synthetic'\n" + extra,
                               "test.toml");
  raw.set("cmd_args", run.test.cmd_args);
  run.test.raw = raw;
  return run;
}

// The value of axis `name` at `point`.
int64_t value_at(const ParamSpace& space, uint64_t point, const std::string& name) {
  for (const auto& [axis, v] : space.action(point))
    if (axis == name) return v.as_int();
  ADD_FAILURE() << "no axis " << name;
  return 0;
}

// Proposes until the agent stops, answering each proposal with `measured` (seconds; none: the
// run failed). Returns the proposals in order.
std::vector<uint64_t> drive(Agent& agent, const std::function<double(uint64_t)>& measured) {
  std::vector<uint64_t> order;
  while (uint64_t p = agent.propose()) {
    order.push_back(p);
    Feedback f{p, 1.0 / measured(p), Feedback::Kind::kOk, measured(p)};
    agent.update(f);
  }
  return order;
}

class ModelGuided : public ::testing::Test {
 protected:
  // tp in {1, 2, 4} x mb in {1, 2}: predicted step time 10 / tp + mb (tp 4 fastest).
  ModelGuided() : run_(synthetic("tp = [1, 2, 4]\nmb = [1, 2]\n")), space_(ParamSpace::of(run_)) {
    options_.system = "cluster";
    options_.predict = [this](uint64_t p) {
      PointPrediction pred;
      pred.step_time_s = predicted(p);
      return pred;
    };
  }
  double predicted(uint64_t p) const {
    return 10.0 / static_cast<double>(value_at(space_, p, "tp")) +
           static_cast<double>(value_at(space_, p, "mb"));
  }
  // Points sorted by (tp, mb) values, to name expectations independently of point numbering.
  uint64_t point(int64_t tp, int64_t mb) const {
    for (uint64_t p = 1; p <= space_.size(); ++p)
      if (value_at(space_, p, "tp") == tp && value_at(space_, p, "mb") == mb) return p;
    ADD_FAILURE() << "no point tp=" << tp << " mb=" << mb;
    return 0;
  }

  TestRun run_;
  ParamSpace space_;
  AgentOptions options_;
};

TEST_F(ModelGuided, RunsPointsInOrderOfPredictedStepTime) {
  std::unique_ptr<Agent> agent = make_agent("model_guided", space_, options_);
  ASSERT_NE(agent, nullptr);
  // Measured exactly as predicted: nothing to correct, the order is the model's.
  std::vector<uint64_t> order = drive(*agent, [&](uint64_t p) { return predicted(p); });
  EXPECT_EQ(order, (std::vector<uint64_t>{point(4, 1), point(4, 2), point(2, 1), point(2, 2),
                                          point(1, 1), point(1, 2)}));
}

TEST_F(ModelGuided, NeedsPredictions) {
  EXPECT_EQ(make_agent("model_guided", space_, AgentOptions{}), nullptr);
}

TEST_F(ModelGuided, SkipsPredictedOutOfMemoryAndRunsUnpredictablePointsLast) {
  options_.predict = [this](uint64_t p) {
    PointPrediction pred;
    if (value_at(space_, p, "tp") == 4 && value_at(space_, p, "mb") == 2)
      return pred;  // the model cannot say
    pred.step_time_s = predicted(p);
    pred.out_of_memory = value_at(space_, p, "tp") == 1;  // tp 1 holds the whole model
    return pred;
  };
  std::unique_ptr<Agent> agent = make_agent("model_guided", space_, options_);
  std::vector<uint64_t> order = drive(*agent, [&](uint64_t p) { return predicted(p); });
  EXPECT_EQ(order, (std::vector<uint64_t>{point(4, 1), point(2, 1), point(2, 2), point(4, 2)}));
}

TEST_F(ModelGuided, AResultThatContradictsThePredictionReordersItsNeighbours) {
  // mb 2 runs three times slower than predicted (say its activations were underestimated); mb 1
  // runs as predicted. Predicted: (4,1) 3.5, (4,2) 4.5, (2,1) 6, (2,2) 7, (1,1) 11, (1,2) 12 s.
  auto measured = [&](uint64_t p) {
    return predicted(p) * (value_at(space_, p, "mb") == 2 ? 3.0 : 1.0);
  };
  std::unique_ptr<Agent> agent = make_agent("model_guided", space_, options_);
  std::vector<uint64_t> order = drive(*agent, measured);
  // After (4,1) (factor 1) and (4,2) (factor 3), (2,2) is nearest to (4,2): 7 x 3 = 21 s, while
  // (2,1) and (1,1) are nearest to (4,1): 6 and 11 s. After (2,1), (2,2) is as near to (4,2) as
  // to (2,1): 7 x sqrt(3) = 12.1 s, still behind (1,1).
  EXPECT_EQ(order, (std::vector<uint64_t>{point(4, 1), point(4, 2), point(2, 1), point(1, 1),
                                          point(2, 2), point(1, 2)}));
  // Without the contradiction the same agent keeps the model's order.
  std::unique_ptr<Agent> plain = make_agent("model_guided", space_, options_);
  EXPECT_EQ(drive(*plain, [&](uint64_t p) { return predicted(p); }),
            (std::vector<uint64_t>{point(4, 1), point(4, 2), point(2, 1), point(2, 2), point(1, 1),
                                   point(1, 2)}));
}

TEST_F(ModelGuided, FailedAndUnmeasuredRunsDoNotCalibrate) {
  std::unique_ptr<Agent> agent = make_agent("model_guided", space_, options_);
  std::vector<uint64_t> order;
  while (uint64_t p = agent->propose()) {
    order.push_back(p);
    // tp 4 fails (its time, had it been measured, would contradict the model).
    if (value_at(space_, p, "tp") == 4)
      agent->update({p, -1.0, Feedback::Kind::kFailed, predicted(p) * 5});
    else
      agent->update({p, 1.0, Feedback::Kind::kOk, std::nullopt});
  }
  EXPECT_EQ(order, (std::vector<uint64_t>{point(4, 1), point(4, 2), point(2, 1), point(2, 2),
                                          point(1, 1), point(1, 2)}));
}

TEST_F(ModelGuided, TheSameResultsInTheSameOrderGiveTheSameProposals) {
  // A resumed campaign replays the earlier results to a fresh agent; it must propose the same
  // points, also when two points are in flight at once.
  auto measured = [&](uint64_t p) {
    return predicted(p) * (value_at(space_, p, "mb") == 1 ? 2.5 : 0.8);
  };
  auto run_two_at_a_time = [&](Agent& agent) {
    std::vector<uint64_t> order;
    std::deque<uint64_t> in_flight;
    for (;;) {
      while (in_flight.size() < 2)
        if (uint64_t p = agent.propose())
          order.push_back(p), in_flight.push_back(p);
        else
          break;
      if (in_flight.empty()) return order;
      uint64_t done = in_flight.front();
      in_flight.pop_front();
      agent.update({done, 1.0 / measured(done), Feedback::Kind::kOk, measured(done)});
    }
  };
  std::unique_ptr<Agent> first = make_agent("model_guided", space_, options_);
  std::unique_ptr<Agent> again = make_agent("model_guided", space_, options_);
  std::vector<uint64_t> a = run_two_at_a_time(*first);
  EXPECT_EQ(a.size(), space_.size());
  EXPECT_EQ(run_two_at_a_time(*again), a);
}

// --- Through the sweep driver. ---

// Predicts 10 / tp + mb seconds; tp 1 needs 200 GiB of an 80 GiB GPU. Measured times are read
// back from a file the runner writes into the run folder.
class StandInEstimator : public Estimator {
 public:
  Estimate estimate(const TestRun& run, const System&) const override {
    Estimate e;
    const int64_t tp = run.test.cmd_args.find("tp")->as_int();
    const int64_t mb = run.test.cmd_args.find("mb")->as_int();
    e.step_time_s = 10.0 / static_cast<double>(tp) + static_cast<double>(mb);
    MemoryEstimate m;
    m.weights = tp == 1 ? 200.0 : 40.0;
    e.memory = m;
    e.gpu_memory_gib = 80.0;
    return e;
  }
  MeasuredRun measured(const fs::path& run_dir) const override {
    std::string text = testkit::read_file(run_dir / "step_time");
    MeasuredRun m;
    if (!text.empty()) m.step_time_s = std::stod(text);
    return m;
  }
};

// Runs each point at once: its step time is `time_of(tp, mb)`, written where the estimator
// reads it, and is the metric.
class InstantRunner : public PointRunner {
 public:
  InstantRunner(fs::path dir, std::function<double(int64_t, int64_t)> time_of, int max = 1)
      : dir_(std::move(dir)), time_of_(std::move(time_of)), max_(max) {
    fs::create_directories(dir_);
  }
  void start(int step, const TestRun& point) override {
    steps.push_back(step);
    PointResult r;
    r.step = step;
    r.run_dir = dir_ / std::to_string(step);
    double t = time_of_(point.test.cmd_args.find("tp")->as_int(),
                        point.test.cmd_args.find("mb")->as_int());
    // A point an earlier session finished is handed back from its folder, as resume does.
    if (!restored.count(step)) {
      submitted.push_back(step);
      fs::create_directories(r.run_dir);
      testkit::write_file(r.run_dir / "step_time", std::to_string(t));
    }
    r.ok = true;
    r.metrics["default"] = t;
    pending_.push_back(r);
  }
  std::vector<PointResult> wait_any() override {
    if (pending_.empty()) return {};
    std::vector<PointResult> out{pending_.front()};
    pending_.pop_front();
    return out;
  }
  int in_flight() const override { return static_cast<int>(pending_.size()); }
  int max_in_flight() const override { return max_; }
  fs::path case_dir() const override { return dir_; }

  std::vector<int> steps;      // every point started, in order
  std::set<int> restored;      // finished by an earlier session: not run again
  std::vector<int> submitted;  // points run by this session

 private:
  fs::path dir_;
  std::function<double(int64_t, int64_t)> time_of_;
  int max_;
  std::deque<PointResult> pending_;
};

class ModelGuidedSweep : public ::testing::Test {
 protected:
  TestRun run(const std::string& extra = "") {
    TestRun r = synthetic("tp = [1, 2, 4]\nmb = [1, 2]\n", "agent = 'model_guided'\n" + extra);
    r.test.agent = "model_guided";
    return r;
  }
  std::vector<std::string> traj_rows(const fs::path& dir) {
    std::string text = testkit::read_file(dir / "trajectory.csv");
    std::vector<std::string> rows;
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
      rows.push_back(text.substr(start, nl - start));
    return rows;
  }

  testkit::TempDir dir_;
  System system_;
  StandInEstimator estimator_;
};

TEST_F(ModelGuidedSweep, StopsAfterAgentStepsWithTheBestPointWritten) {
  TestRun r = run("agent_steps = 2\n");
  r.test.agent_steps = 2;
  // tp 4 is twice as slow as predicted, uniformly: no contrast, so the model's order stands.
  InstantRunner runner(dir_ / "case", [](int64_t tp, int64_t mb) {
    return (10.0 / static_cast<double>(tp) + static_cast<double>(mb)) * (tp == 4 ? 2.0 : 1.0);
  });
  ASSERT_EQ(run_sweep(r, system_, runner, &estimator_), 0);
  ParamSpace space = ParamSpace::of(r);
  ASSERT_EQ(runner.steps.size(), 2u);  // agent_steps
  for (int s : runner.steps) EXPECT_NE(value_at(space, static_cast<uint64_t>(s), "tp"), 1);
  EXPECT_EQ(value_at(space, static_cast<uint64_t>(runner.steps[0]), "tp"), 4);
  EXPECT_EQ(traj_rows(dir_ / "case").size(), 3u);  // header + two points
  EXPECT_TRUE(fs::exists(dir_ / "case" / "case.toml"));
}

TEST_F(ModelGuidedSweep, PredictedOutOfMemoryPointsNeverRunEvenWhenE1OnlyWarns) {
  TestRun r = run();
  r.test.oom_rule = OomRule::kWarn;
  InstantRunner runner(dir_ / "case", [](int64_t tp, int64_t mb) {
    return 10.0 / static_cast<double>(tp) + static_cast<double>(mb);
  });
  ASSERT_EQ(run_sweep(r, system_, runner, &estimator_), 0);
  ParamSpace space = ParamSpace::of(r);
  EXPECT_EQ(runner.steps.size(), 4u);  // the two tp 1 points are skipped
  for (int s : runner.steps) EXPECT_NE(value_at(space, static_cast<uint64_t>(s), "tp"), 1);

  // With E1 off the model's memory figure is not a verdict: every point may run.
  TestRun off = run();
  off.test.oom_rule = OomRule::kOff;
  InstantRunner all(dir_ / "off", [](int64_t tp, int64_t mb) {
    return 10.0 / static_cast<double>(tp) + static_cast<double>(mb);
  });
  ASSERT_EQ(run_sweep(off, system_, all, &estimator_), 0);
  EXPECT_EQ(all.steps.size(), 6u);
}

TEST_F(ModelGuidedSweep, ReplayedResultsGiveTheSameSteps) {
  auto time_of = [](int64_t tp, int64_t mb) {
    return (10.0 / static_cast<double>(tp) + static_cast<double>(mb)) * (mb == 2 ? 0.5 : 1.5);
  };
  InstantRunner first(dir_ / "a", time_of, 2);
  InstantRunner again(dir_ / "b", time_of, 2);
  TestRun r = run("agent_steps = 3\n");
  r.test.agent_steps = 3;
  ASSERT_EQ(run_sweep(r, system_, first, &estimator_), 0);
  ASSERT_EQ(run_sweep(r, system_, again, &estimator_), 0);
  EXPECT_EQ(first.steps.size(), 3u);
  EXPECT_EQ(again.steps, first.steps);
  EXPECT_EQ(traj_rows(dir_ / "b"), traj_rows(dir_ / "a"));
}

TEST_F(ModelGuidedSweep, AResumedSweepReplaysWhatFinishedAndGoesOnAsAnUninterruptedOne) {
  // mb 2 runs at half its predicted time, mb 1 at 1.5 times: re-ranking matters.
  auto time_of = [](int64_t tp, int64_t mb) {
    return (10.0 / static_cast<double>(tp) + static_cast<double>(mb)) * (mb == 2 ? 0.5 : 1.5);
  };
  TestRun r = run("agent_steps = 4\n");
  r.test.agent_steps = 4;
  InstantRunner whole(dir_ / "whole", time_of);
  ASSERT_EQ(run_sweep(r, system_, whole, &estimator_), 0);
  ASSERT_EQ(whole.steps.size(), 4u);

  // The same campaign cut after two points, then resumed in the same folder.
  TestRun cut_run = r;
  cut_run.test.agent_steps = 2;
  InstantRunner cut(dir_ / "campaign", time_of);
  ASSERT_EQ(run_sweep(cut_run, system_, cut, &estimator_), 0);
  InstantRunner resumed(dir_ / "campaign", time_of);
  resumed.restored = {cut.steps.begin(), cut.steps.end()};
  ASSERT_EQ(run_sweep(r, system_, resumed, &estimator_), 0);
  EXPECT_EQ(resumed.steps, whole.steps);
  EXPECT_EQ(resumed.submitted, std::vector<int>(whole.steps.begin() + 2, whole.steps.end()));
  EXPECT_EQ(traj_rows(dir_ / "campaign"), traj_rows(dir_ / "whole"));
}

TEST_F(ModelGuidedSweep, AWorkloadThatPredictsNothingIsRefusedNamingTheKey) {
  TestRun r = run();
  InstantRunner runner(dir_ / "case", [](int64_t, int64_t) { return 1.0; });
  try {
    run_sweep(r, system_, runner, nullptr);
    FAIL() << "model_guided ran without an estimator";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("test.toml:3: agent: model_guided ranks points by "
                                         "predicted step time and Synthetic predicts none"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(runner.steps.empty());

  // A registered workload without an estimator is refused when the settings are read (plan,
  // dry-run), before anything runs.
  r.test.test_template_name = "Sleep";
  try {
    read_sweep_settings(r);
    FAIL() << "model_guided accepted for a workload that predicts nothing";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("and Sleep predicts none"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bp
