#include "loaders/load_test.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "config/toml_reader.h"
#include "core/workload.h"
#include "testkit/fake_sleep_workload.h"
#include "testkit/testkit.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kData = fs::path(BENCHPILOT_SOURCE_DIR) / "tests/data/config/good/test";

class LoadTestTest : public ::testing::Test {
 protected:
  void SetUp() override { lookup_ = testkit::fake_lookup(fake_, {"MegatronBridge", "Sleep"}); }

  fs::path write(const std::string& name, const std::string& text) {
    return testkit::write_file(dir_ / name, text);
  }
  std::string error_of(const std::string& text) {
    try {
      load_test(write("t.toml", text), lookup_);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  }

  testkit::TempDir dir_;
  testkit::FakeSleepWorkload fake_;
  WorkloadLookup lookup_;
};

const std::string kHead = "name = 't'\ndescription = 'd'\ntest_template_name = 'Sleep'\n";

TEST_F(LoadTestTest, SimpleTest) {
  TestDefinition t = load_test(kData / "sleep.toml", lookup_);
  EXPECT_EQ(t.name, "sleep");
  EXPECT_EQ(t.description, "sleep for a while");
  EXPECT_EQ(t.test_template_name, "Sleep");
  EXPECT_EQ(t.cmd_args.find("seconds")->as_int(), 5);
  EXPECT_EQ(t.cmd_args.size(), 1u);  // defaults are not materialized
  EXPECT_EQ(t.dse_excluded_args, std::vector<std::string>{"seconds"});
  EXPECT_EQ(t.extra_container_mounts, std::vector<std::string>{"/data:/data"});
  EXPECT_EQ(t.extra_env_vars.keys(), (std::vector<std::string>{"B_VAR", "A_VAR"}));  // file order
  EXPECT_TRUE(t.extra_env_vars.find("A_VAR")->is_array());
  EXPECT_EQ(t.agent, "grid_search");
  EXPECT_FALSE(t.agent_steps.has_value());
  EXPECT_EQ(t.agent_metrics, std::vector<std::string>{"default"});
  EXPECT_EQ(t.agent_reward_function, "inverse");
  EXPECT_EQ(fake_.validated, 1);
  EXPECT_EQ(t.loc.file, (kData / "sleep.toml").string());
}

TEST_F(LoadTestTest, EveryTestFileField) {
  TestDefinition t = load_test(kData / "megatron_like.toml", lookup_);
  ASSERT_EQ(t.git_repos.size(), 2u);
  EXPECT_EQ(t.git_repos[0].url, "https://github.com/NVIDIA-NeMo/Megatron-Bridge.git");
  EXPECT_EQ(t.git_repos[0].commit, "v0.3.0");
  EXPECT_FALSE(t.git_repos[0].init_submodules);
  EXPECT_EQ(t.git_repos[0].mount_as, "");
  EXPECT_TRUE(t.git_repos[1].init_submodules);
  EXPECT_EQ(t.git_repos[1].mount_as, "/opt/other");
  EXPECT_EQ(t.extra_cmd_args,
            (std::vector<std::pair<std::string, std::string>>{
                {"profiling.use_pytorch_profiler", "true"}, {"profiling.profile_ranks", "[0]"}}));
  EXPECT_EQ(t.agent_steps, 4);
  EXPECT_EQ(t.agent_metrics, (std::vector<std::string>{"default", "tflops"}));
  EXPECT_EQ(t.agent_reward_function, "identity");
  EXPECT_EQ(t.agent_config.find("seed")->as_int(), 1);
  EXPECT_EQ(t.cmd_args.keys(), (std::vector<std::string>{"seconds", "container_image", "nested"}));
  EXPECT_NE(t.raw.find("nsys"), nullptr);
  EXPECT_NE(t.raw.find("training_report"), nullptr);
  EXPECT_NE(t.raw.find("env_params"), nullptr);
  EXPECT_EQ(t.raw.find_path("cmd_args.nested.y")->size(), 2u);
}

TEST_F(LoadTestTest, NemoRunRepoOfMegatronBridgeTests) {
  // The real Megatron-Bridge workload (registry), which needs its model names and repo.
  const std::string mb =
      "name = 't'\ndescription = 'd'\ntest_template_name = 'MegatronBridge'\n"
      "[cmd_args]\nmodel_family_name = 'llama'\nmodel_recipe_name = 'llama3_8b'\n"
      "[[git_repos]]\nurl = 'https://github.com/NVIDIA-NeMo/Megatron-Bridge.git'\n"
      "commit = 'v0.3.0'\n";
  TestDefinition t = load_test(
      write("t.toml", mb + "[nemo_run_repo]\nurl = 'https://github.com/NVIDIA-NeMo/Run.git'\n"
                           "commit = 'v0.10.0'\n"));
  ASSERT_TRUE(t.nemo_run_repo.has_value());
  EXPECT_EQ(t.nemo_run_repo->commit, "v0.10.0");
  EXPECT_EQ(t.nemo_run_repo->url, "https://github.com/NVIDIA-NeMo/Run.git");
  EXPECT_FALSE(load_test(write("u.toml", mb)).nemo_run_repo.has_value());
  try {
    load_test(write("v.toml", mb + "[nemo_run_repo]\nurl = 'u'\n"));
    ADD_FAILURE() << "nemo_run_repo without commit accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("v.toml:10: nemo_run_repo.commit: missing required key"));
  }
  EXPECT_THAT(error_of(kHead + "[nemo_run_repo]\nurl = 'u'\ncommit = 'c'\n"),
              HasSubstr("t.toml:4: nemo_run_repo: the Sleep workload takes no NeMo-Run "
                        "repository"));
}

TEST_F(LoadTestTest, Errors) {
  EXPECT_THAT(error_of("description = 'd'\ntest_template_name = 'Sleep'\n"),
              HasSubstr("name: missing required key 'name' in test"));
  EXPECT_THAT(error_of("name = 't'\ntest_template_name = 'Sleep'\n"),
              HasSubstr("description: missing required key 'description'"));
  std::string err = error_of("name = 't'\ndescription = 'd'\ntest_template_name = 'Slep'\n");
  EXPECT_THAT(err, HasSubstr("t.toml:3: test_template_name: unknown test_template_name \"Slep\""));
  EXPECT_THAT(err, HasSubstr("did you mean \"Sleep\"?"));
  EXPECT_THAT(err, HasSubstr("known: MegatronBridge, Sleep"));
  EXPECT_THAT(error_of(kHead + "cmd_arg = {}\n"),
              HasSubstr("t.toml:4: cmd_arg: unknown key 'cmd_arg' in test; did you mean "
                        "'cmd_args'?"));
  EXPECT_THAT(error_of(kHead + "[cmd_args]\nseconds = 'five'\n"),
              HasSubstr("t.toml:5: cmd_args.seconds: expected an integer"));  // from validate()
  EXPECT_THAT(error_of(kHead + "[extra_env_vars]\nX = 1\n"),
              HasSubstr("t.toml:5: extra_env_vars.X: expected a string or a list of strings"));
  EXPECT_THAT(error_of(kHead + "[extra_env_vars]\nX = ['a', 2]\n"),
              HasSubstr("t.toml:5: extra_env_vars.X[1]: expected a string"));
  EXPECT_THAT(error_of(kHead + "[extra_cmd_args]\n'a.b' = 1\n"),
              HasSubstr("t.toml:5: extra_cmd_args.a.b: expected a string, got integer"));
  EXPECT_THAT(error_of(kHead + "[[git_repos]]\nurl = 'u'\n"),
              HasSubstr("git_repos[0].commit: missing required key 'commit' in git repo"));
  EXPECT_THAT(error_of(kHead + "[[git_repos]]\nurl = 'u'\ncommit = 'c'\nmount = '/x'\n"),
              HasSubstr("t.toml:7: git_repos[0].mount: unknown key 'mount' in git repo; did you "
                        "mean 'mount_as'?"));
  EXPECT_THAT(error_of(kHead + "nsys = true\n"), HasSubstr("t.toml:4: nsys: expected a table"));
  EXPECT_THAT(error_of(kHead + "agent_steps = 'x'\n"),
              HasSubstr("t.toml:4: agent_steps: expected an integer"));
  EXPECT_THAT(error_of(kHead + "dse_excluded_args = 'seconds'\n"),
              HasSubstr("t.toml:4: dse_excluded_args: expected a list of strings"));
}

TEST_F(LoadTestTest, KeyPrefixAppearsInErrors) {
  Value table = read_toml_string(kHead + "cmd_args = 3\n", "scenario.toml");
  try {
    parse_test_table(table, lookup_, "Tests[2]");
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("scenario.toml:4: Tests[2].cmd_args: expected a table"));
  }
}

TEST_F(LoadTestTest, LoadsDirectorySortedAndRejectsDuplicateNames) {
  fs::create_directories(dir_ / "sub");
  write("b.toml", "name = 'b'\ndescription = 'd'\ntest_template_name = 'Sleep'\n");
  write("a.toml", "name = 'a'\ndescription = 'd'\ntest_template_name = 'Sleep'\n");
  write("notes.txt", "not a test");
  write("sub/c.toml", "name = 'c'\n");  // not recursive: never read
  std::vector<TestDefinition> tests = load_tests_dir(dir_, lookup_);
  ASSERT_EQ(tests.size(), 2u);
  EXPECT_EQ(tests[0].name, "a");
  EXPECT_EQ(tests[1].name, "b");

  write("c.toml", "description = 'd'\nname = 'a'\ntest_template_name = 'Sleep'\n");
  try {
    load_tests_dir(dir_, lookup_);
    FAIL() << "accepted a duplicate";
  } catch (const ConfigError& e) {
    std::string what = e.what();
    EXPECT_THAT(what, HasSubstr((dir_ / "c.toml").string() + ":2: name: duplicate test name "
                                                             "\"a\""));
    EXPECT_THAT(what, HasSubstr("also defined in " + (dir_ / "a.toml").string()));
  }
  EXPECT_THROW(load_tests_dir(dir_ / "missing", lookup_), ConfigError);
}

}  // namespace
}  // namespace bp
