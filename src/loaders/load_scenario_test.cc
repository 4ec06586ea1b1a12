#include "loaders/load_scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "core/workload.h"
#include "testkit/fake_sleep_workload.h"
#include "testkit/testkit.h"
#include "util/error.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kData = fs::path(BENCHPILOT_SOURCE_DIR) / "tests/data/config/good";

class LoadScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lookup_ = testkit::fake_lookup(fake_);
    tests_ = load_tests_dir(kData / "test", lookup_);
  }

  Scenario load(const std::string& text) {
    return load_scenario(testkit::write_file(dir_ / "scenario.toml", text), tests_, lookup_);
  }
  std::string error_of(const std::string& text) {
    try {
      load(text);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  }

  testkit::TempDir dir_;
  testkit::FakeSleepWorkload fake_;
  WorkloadLookup lookup_;
  std::vector<TestDefinition> tests_;
};

// A one-case scenario around `case_body` (case starts on line 3, its keys from line 4).
std::string one_case(const std::string& case_body) {
  return "name = 's'\n[[Tests]]\nid = 'a'\n" + case_body;
}

TEST_F(LoadScenarioTest, FixtureScenario) {
  Scenario s = load_scenario(kData / "scenario/sleep.toml", tests_, lookup_);
  EXPECT_EQ(s.name, "sleep-scenario");
  EXPECT_FALSE(s.job_status_check);
  ASSERT_EQ(s.runs.size(), 3u);
  EXPECT_EQ(s.runs[0].id, "Tests.sleep1");
  EXPECT_EQ(s.runs[0].test.name, "sleep");
  EXPECT_EQ(s.runs[0].num_nodes, std::vector<int64_t>{2});  // from "2"
  EXPECT_FALSE(s.runs[0].num_nodes_is_list);
  EXPECT_EQ(s.runs[0].time_limit, "00:10:00");
  EXPECT_EQ(s.runs[0].test.cmd_args.find("seconds")->as_int(), 5);
  EXPECT_EQ(s.runs[1].test.cmd_args.find("seconds")->as_int(), 7);
  ASSERT_EQ(s.runs[1].dependencies.size(), 1u);
  EXPECT_EQ(s.runs[1].dependencies[0].type, DependencyType::kStartPostComp);
  EXPECT_EQ(s.runs[1].dependencies[0].id, "Tests.sleep1");
  EXPECT_EQ(s.runs[1].num_nodes, std::vector<int64_t>{1});  // default
  EXPECT_EQ(s.runs[2].test.name, "inline_sleep");
  EXPECT_EQ(s.runs[2].test.description, "defined in the scenario");
  EXPECT_EQ(s.runs[2].num_nodes, (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(s.runs[2].num_nodes_is_list);
  EXPECT_EQ(s.runs[2].test.loc.file, (kData / "scenario/sleep.toml").string());
}

TEST_F(LoadScenarioTest, TopLevelFields) {
  Scenario s = load(
      "name = 's'\nsol_path = 'x'\npre_test = 'pre'\npost_test = 'post'\n"
      "[reports]\nper_test = { enable = false }\n"
      "[[Tests]]\nid = 'a'\ntest_name = 'sleep'\nweight = 2\niterations = 3\nsol = 1.5\n"
      "ideal_perf = 4\ntime_limit = '12:30'\nnodes = ['n1', 'p:g:2']\nexclude_nodes = ['n3']\n"
      "extra_srun_args = '--exclusive'\n");
  EXPECT_TRUE(s.job_status_check);
  EXPECT_EQ(s.pre_test, "pre");
  EXPECT_EQ(s.post_test, "post");
  EXPECT_FALSE(s.reports.find_path("per_test.enable")->as_bool());
  const TestRun& r = s.runs[0];
  EXPECT_DOUBLE_EQ(r.weight, 2);
  EXPECT_EQ(r.iterations, 3);
  EXPECT_EQ(r.sol, 1.5);
  EXPECT_DOUBLE_EQ(r.ideal_perf, 4);
  EXPECT_EQ(r.time_limit, "12:30:00");
  EXPECT_EQ(r.nodes, (std::vector<std::string>{"n1", "p:g:2"}));
  EXPECT_EQ(r.exclude_nodes, std::vector<std::string>{"n3"});
  EXPECT_EQ(r.extra_srun_args, "--exclusive");
  EXPECT_FALSE(r.time_limit == std::nullopt);
  EXPECT_FALSE(load(one_case("test_name = 'sleep'\n")).runs[0].time_limit.has_value());
}

TEST_F(LoadScenarioTest, MergeRules) {
  Scenario s =
      load(one_case("test_name = 'mb_like'\nagent_steps = 9\nextra_container_mounts = ['/b:/b']\n"
                    "[Tests.cmd_args]\nnew_key = 'v'\n[Tests.cmd_args.nested]\nx = 2\n"
                    "[[Tests.git_repos]]\nurl = 'https://example.com/r.git'\ncommit = 'r0.3.0'\n"
                    "[Tests.extra_env_vars]\nPYTHONPATH = '/opt'\n"));
  const TestDefinition& t = s.runs[0].test;
  // Tables merge key by key, recursively.
  EXPECT_EQ(t.cmd_args.find("seconds")->as_int(), 1);
  EXPECT_EQ(t.cmd_args.find("container_image")->as_string(), "nvcr.io#nvidia/nemo:26.02.00");
  EXPECT_EQ(t.cmd_args.find("new_key")->as_string(), "v");
  EXPECT_EQ(t.cmd_args.find_path("nested.x")->as_int(), 2);
  EXPECT_EQ(t.cmd_args.find_path("nested.y")->size(), 2u);
  // Lists are replaced, not appended.
  ASSERT_EQ(t.git_repos.size(), 1u);
  EXPECT_EQ(t.git_repos[0].commit, "r0.3.0");
  EXPECT_EQ(t.extra_container_mounts, std::vector<std::string>{"/b:/b"});
  // Scalars are replaced.
  EXPECT_EQ(t.agent_steps, 9);
  // Untouched test-file values stay, including test-file-only ones.
  EXPECT_EQ(t.extra_cmd_args.size(), 2u);
  EXPECT_EQ(t.agent_reward_function, "identity");
  EXPECT_EQ(t.extra_env_vars.find("PYTHONPATH")->as_string(), "/opt");
  // Defaults are never materialized: absent in both test and override stays absent.
  EXPECT_EQ(t.cmd_args.find("hf_token"), nullptr);
  EXPECT_EQ(t.raw.find("dse_excluded_args"), nullptr);
  EXPECT_EQ(t.raw.find_path("cmd_args.nested.z"), nullptr);
  EXPECT_EQ(t.raw.find("id"), nullptr);  // run keys never leak into the test
  EXPECT_EQ(t.raw.find("test_name"), nullptr);
  // The named test itself is left as it was.
  EXPECT_EQ(tests_[0].name, "mb_like");
  EXPECT_EQ(tests_[0].cmd_args.find_path("nested.x")->as_int(), 1);
  EXPECT_EQ(tests_[0].git_repos.size(), 2u);

  Scenario plain = load(one_case("test_name = 'sleep'\n"));
  EXPECT_EQ(plain.runs[0].test.raw, tests_[1].raw);
}

TEST_F(LoadScenarioTest, MergedValuesAreValidated) {
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\n[Tests.cmd_args]\nseconds = 'x'\n")),
              HasSubstr("scenario.toml:6: cmd_args.seconds: expected an integer"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\nagent_steps = 'many'\n")),
              HasSubstr("scenario.toml:5: Tests[0].agent_steps: expected an integer"));
}

// `reference` (a benchpilot addition) in a test file or a scenario case; CloudAI files, which
// never have it, get no references.
TEST_F(LoadScenarioTest, ReferenceValuesInTestAndCase) {
  EXPECT_TRUE(tests_[0].references.empty());
  EXPECT_TRUE(load(one_case("test_name = 'sleep'\n")).runs[0].test.references.empty());

  std::ofstream(dir_ / "t.toml") << "name = 't'\ndescription = 'd'\ntest_template_name = 'Sleep'\n"
                                    "[cmd_args]\nseconds = 1\n"
                                    "[[reference]]\nparams = { seconds = 1 }\nstep_time = 9.2\n"
                                    "[[reference]]\nbaseline = 'last_passing'\n";
  TestDefinition t = load_test(dir_ / "t.toml", lookup_);
  ASSERT_EQ(t.references.size(), 2u);
  EXPECT_EQ(t.references[0].step_time, 9.2);
  EXPECT_EQ(t.references[0].tolerance, 0.05);
  EXPECT_EQ(t.references[0].params,
            (std::vector<std::pair<std::string, std::string>>{{"cmd_args.seconds", "1"}}));
  EXPECT_TRUE(t.references[1].last_passing);
  EXPECT_EQ(t.references[1].loc.line, 9);

  // A case's table merges into the test's like any override (here: the test has none).
  Scenario s =
      load(one_case("test_name = 'sleep'\n[Tests.reference]\nstep_time = 2.5\n"
                    "tolerance = 0.1\n"));
  ASSERT_EQ(s.runs[0].test.references.size(), 1u);
  EXPECT_EQ(s.runs[0].test.references[0].step_time, 2.5);
  EXPECT_EQ(s.runs[0].test.references[0].tolerance, 0.1);

  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\n[Tests.reference]\nstep_time = -1\n")),
              HasSubstr("scenario.toml:6: Tests[0].reference.step_time: expected a positive"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\n[Tests.reference]\ntolerance = 0.1\n")),
              HasSubstr("Tests[0].reference: expected either value"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\n[Tests.reference]\nstep_time = 1\n"
                                "case = 'other'\n")),
              HasSubstr("scenario.toml:7: Tests[0].reference.case: unknown key; expected params"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\n[Tests.reference]\nstep_time = 1\n"
                                "params = { seconds = [1, 2] }\n")),
              HasSubstr("Tests[0].reference.params.seconds: expected one value"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\nreference = 9.2\n")),
              HasSubstr("scenario.toml:5: Tests[0].reference: expected a table"));
}

// nan compares false with every mean and inf is met by none; both are refused.
TEST_F(LoadScenarioTest, ReferenceValuesAreFinite) {
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\n[Tests.reference]\nvalue = nan\n")),
              HasSubstr("scenario.toml:6: Tests[0].reference.value: expected a finite number, "
                        "got nan"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\n[Tests.reference]\nstep_time = inf\n")),
              HasSubstr("scenario.toml:6: Tests[0].reference.step_time: expected a finite "
                        "number, got inf"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\n[Tests.reference]\nvalue = 2.0\n"
                                "tolerance = nan\n")),
              HasSubstr("scenario.toml:7: Tests[0].reference.tolerance: expected a finite "
                        "number, got nan"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\n[Tests.reference]\nvalue = -inf\n")),
              HasSubstr("Tests[0].reference.value: expected a finite number, got -inf"));
}

TEST_F(LoadScenarioTest, NumNodesForms) {
  EXPECT_EQ(load(one_case("test_name = 'sleep'\nnum_nodes = 4\n")).runs[0].num_nodes,
            std::vector<int64_t>{4});
  Scenario list = load(one_case("test_name = 'sleep'\nnum_nodes = [1, '2', 8]\n"));
  EXPECT_EQ(list.runs[0].num_nodes, (std::vector<int64_t>{1, 2, 8}));
  EXPECT_TRUE(list.runs[0].num_nodes_is_list);
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\nnum_nodes = 'two'\n")),
              HasSubstr("scenario.toml:5: Tests[0].num_nodes: expected an integer"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\nnum_nodes = [1, 0]\n")),
              HasSubstr("scenario.toml:5: Tests[0].num_nodes[1]: expected a node count from 1 to "
                        "1000000, got 0"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\nnum_nodes = []\n")),
              HasSubstr("Tests[0].num_nodes: expected an integer or a non-empty list"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\nnum_nodes = 1.5\n")),
              HasSubstr("Tests[0].num_nodes: expected an integer, got float"));
}

TEST_F(LoadScenarioTest, Dependencies) {
  const std::string two =
      "name = 's'\n[[Tests]]\nid = 'a'\ntest_name = 'sleep'\n"
      "[[Tests]]\nid = 'b'\ntest_name = 'sleep'\n";  // b's keys: lines 6-7
  Scenario ok = load(two +
                     "dependencies = [{type = 'start_post_init', id = 'a'}, "
                     "{type = 'end_post_comp', id = 'a'}]\n");
  ASSERT_EQ(ok.runs[1].dependencies.size(), 2u);
  EXPECT_EQ(ok.runs[1].dependencies[0].type, DependencyType::kStartPostInit);
  EXPECT_EQ(ok.runs[1].dependencies[1].type, DependencyType::kEndPostComp);

  std::string err = error_of(two + "[[Tests.dependencies]]\ntype = 'after'\nid = 'a'\n");
  EXPECT_THAT(err, HasSubstr("scenario.toml:9: Tests[1].dependencies[0].type: unknown dependency "
                             "type \"after\""));
  EXPECT_THAT(err, HasSubstr("start_post_init, start_post_comp or end_post_comp"));
  EXPECT_THAT(error_of(two + "[[Tests.dependencies]]\ntype = 'start_post_comp'\nid = 'zzz'\n"),
              HasSubstr("scenario.toml:10: Tests[1].dependencies[0].id: unknown case id \"zzz\" "
                        "(case ids: a, b)"));
  EXPECT_THAT(error_of(two + "[[Tests.dependencies]]\ntype = 'start_post_comp'\nid = 'b'\n"),
              HasSubstr("scenario.toml:10: Tests[1].dependencies[0].id: case \"b\" depends on "
                        "itself"));
  EXPECT_THAT(error_of(two + "[[Tests.dependencies]]\ntype = 'start_post_comp'\n"),
              HasSubstr("Tests[1].dependencies[0].id: missing required key 'id'"));
  EXPECT_THAT(error_of(two + "[[Tests.dependencies]]\ntype = 'start_post_comp'\nid = 'a'\n"
                             "delay = 1\n"),
              HasSubstr("scenario.toml:11: Tests[1].dependencies[0].delay: unknown key"));
}

TEST_F(LoadScenarioTest, ScenarioErrors) {
  EXPECT_THAT(error_of("[[Tests]]\nid = 'a'\ntest_name = 'sleep'\n"),
              HasSubstr("name: missing required key 'name' in scenario"));
  EXPECT_THAT(error_of("name = 's'\n"),
              HasSubstr("Tests: a scenario needs at least one [[Tests]] case"));
  EXPECT_THAT(error_of("name = 's'\nTests = []\n"),
              HasSubstr("scenario.toml:2: Tests: a scenario needs at least one"));
  EXPECT_THAT(error_of("name = 's'\njob_status = true\n[[Tests]]\nid = 'a'\ntest_name = 'sleep'\n"),
              HasSubstr("scenario.toml:2: job_status: unknown key 'job_status' in scenario; did "
                        "you mean 'job_status_check'?"));
  EXPECT_THAT(error_of("name = 's'\n[[Tests]]\nid = 'a'\ntest_name = 'sleep'\n[[Tests]]\n"
                       "id = 'a'\ntest_name = 'sleep'\n"),
              HasSubstr("scenario.toml:6: Tests[1].id: duplicate case id \"a\" (first used on "
                        "line 3)"));
  EXPECT_THAT(error_of("name = 's'\n[[Tests]]\nid = ''\ntest_name = 'sleep'\n"),
              HasSubstr("scenario.toml:3: Tests[0].id: expected 1 to 128 letters, digits"));
  EXPECT_THAT(error_of("name = 's'\n[[Tests]]\ntest_name = 'sleep'\n"),
              HasSubstr("Tests[0].id: missing required key 'id'"));
}

TEST_F(LoadScenarioTest, CaseErrors) {
  std::string err = error_of(one_case("test_name = 'slep'\n"));
  EXPECT_THAT(err, HasSubstr("scenario.toml:4: Tests[0].test_name: unknown test \"slep\"; did "
                             "you mean \"sleep\"?"));
  EXPECT_THAT(err, HasSubstr("known tests: mb_like, sleep)"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\ntest_template_name = 'Sleep'\n")),
              HasSubstr("scenario.toml:5: Tests[0].test_template_name: test_template_name "
                        "cannot be set together with test_name"));
  for (const char* key : {"extra_cmd_args", "env_params", "training_report"}) {
    EXPECT_THAT(error_of(one_case("test_name = 'sleep'\n[Tests." + std::string(key) + "]\n")),
                HasSubstr("scenario.toml:5: Tests[0]." + std::string(key) + ": '" + key +
                          "' can only be set in the test file"));
  }
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\nnum_node = 2\n")),
              HasSubstr("scenario.toml:5: Tests[0].num_node: unknown key 'num_node' in scenario "
                        "case; did you mean 'num_nodes'?"));
  err = error_of(one_case("test_name = 'sleep'\ntime_limit = '10 minutes'\n"));
  EXPECT_THAT(err, HasSubstr("scenario.toml:5: Tests[0].time_limit: invalid time limit"));
  EXPECT_THAT(err, HasSubstr("D-HH:MM:SS"));
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\ntime_limit = 600\n")),
              HasSubstr("scenario.toml:5: Tests[0].time_limit: expected a string"));
  EXPECT_THAT(
      error_of(one_case("test_name = 'sleep'\niterations = 0\n")),
      HasSubstr(
          "scenario.toml:5: Tests[0].iterations: expected an integer from 1 to 1000000000, got 0"));
  EXPECT_THAT(error_of(one_case("num_nodes = 1\n")),
              HasSubstr("Tests[0].test_name: a case needs test_name"));
  EXPECT_THAT(error_of(one_case("test_template_name = 'Sleep'\nname = 'x'\n")),
              HasSubstr("Tests[0].description: missing required key 'description'"));
  EXPECT_THAT(error_of(one_case("test_template_name = 'Other'\nname = 'x'\ndescription = 'd'\n")),
              HasSubstr("scenario.toml:4: Tests[0].test_template_name: unknown "
                        "test_template_name \"Other\""));
}

TEST_F(LoadScenarioTest, ManyKnownTestsAreAbbreviated) {
  for (int i = 0; i < 7; ++i) {
    TestDefinition t = tests_[1];
    t.name = "t" + std::to_string(i);
    tests_.push_back(t);
  }
  EXPECT_THAT(error_of(one_case("test_name = 'nothing_like_it'\n")),
              HasSubstr("(known tests: mb_like, sleep, t0, t1, t2 and 4 more)"));
  tests_.clear();
  EXPECT_THAT(error_of(one_case("test_name = 'sleep'\n")),
              HasSubstr("no tests were loaded: check --tests-dir"));
}

}  // namespace
}  // namespace bp

namespace bp {
namespace {

TEST_F(LoadScenarioTest, HooksComeFromTheHookFolderAndExtendTimeLimits) {
  fs::path hooks = dir_ / "hooks";
  fs::create_directories(hooks / "test");
  std::ofstream(hooks / "test" / "nap.toml")
      << "name = 'nap'\ndescription = 'd'\ntest_template_name = 'Sleep'\n[cmd_args]\nseconds = 1\n";
  std::ofstream(hooks / "gate.toml")
      << "name = 'gate'\n[[Tests]]\nid = 'g1'\ntest_name = 'nap'\ntime_limit = '00:10:00'\n"
         "[[Tests]]\nid = 'g2'\ntest_name = 'nap'\ntime_limit = '5m'\n";
  std::ofstream(hooks / "after.toml")
      << "name = 'after'\n[[Tests]]\nid = 'a1'\ntest_name = 'nap'\n";
  HookMap map = load_hooks(hooks, lookup_);
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map.at("gate")->runs.size(), 2u);

  Scenario s = load(
      "name = 's'\npre_test = 'gate'\npost_test = 'after'\n"
      "[[Tests]]\nid = 'a'\ntest_name = 'sleep'\ntime_limit = '01:00:00'\n"
      "[[Tests]]\nid = 'b'\ntest_name = 'sleep'\n");
  attach_hooks(s, map, hooks);
  ASSERT_NE(s.runs[0].pre_test, nullptr);
  EXPECT_EQ(s.runs[0].pre_test->name, "gate");
  EXPECT_EQ(s.runs[1].post_test->runs[0].id, "a1");
  EXPECT_EQ(s.runs[0].time_limit, "01:15:00");     // + both hook cases (CloudAI)
  EXPECT_FALSE(s.runs[1].time_limit.has_value());  // no limit stays none

  Scenario unknown =
      load("name = 's'\npost_test = 'nope'\n[[Tests]]\nid = 'a'\ntest_name = 'sleep'\n");
  try {
    attach_hooks(unknown, map, hooks);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Post-test hook 'nope' not found in hook mapping"));
    EXPECT_THAT(e.what(), HasSubstr(hooks.string()));
    EXPECT_THAT(e.what(), HasSubstr("after, gate"));
  }
  EXPECT_TRUE(load_hooks(dir_ / "missing", lookup_).empty());
}

}  // namespace
}  // namespace bp
