#include "sweep/param_space.h"

#include <gtest/gtest.h>

#include "config/toml_reader.h"

namespace bp {
namespace {

TestRun run_from(const std::string& cmd_args_toml, const std::string& env_toml = "") {
  TestRun run;
  run.id = "case";
  run.test.name = "t";
  run.test.cmd_args = read_toml_string(cmd_args_toml, "cmd_args.toml");
  if (!env_toml.empty()) run.test.extra_env_vars = read_toml_string(env_toml, "env.toml");
  run.test.raw = Value::table();
  run.test.raw.set("cmd_args", run.test.cmd_args);
  run.test.raw.set("extra_env_vars", run.test.extra_env_vars);
  return run;
}

std::vector<std::string> names(const ParamSpace& s) {
  std::vector<std::string> out;
  for (const Axis& a : s.axes()) out.push_back(a.name);
  return out;
}

TEST(ParamSpace, OrderFollowsSchemaThenExtrasThenEnvThenNumNodes) {
  TestRun run = run_from("extra = [1, 2]\ngb = [128, 256]\nname = 'x'\ntp = [1, 2, 4]\n",
                         "B = ['1', '2']\nA = 'fixed'\nC = ['x', 'y']\n");
  run.num_nodes = {1, 2};
  run.num_nodes_is_list = true;
  ParamSpace space(run, std::vector<std::string>{"tp", "pp", "gb"});
  EXPECT_EQ(names(space), (std::vector<std::string>{"tp", "gb", "extra", "extra_env_vars.B",
                                                    "extra_env_vars.C", "NUM_NODES"}));
  EXPECT_EQ(space.size(), 3u * 2 * 2 * 2 * 2 * 2);
  EXPECT_TRUE(space.is_sweep());
}

TEST(ParamSpace, NestedTablesAreFlattenedWithDottedNames) {
  TestRun run = run_from("[trainer]\nmax_steps = [10, 20]\n[trainer.strategy]\ntp = [1, 2]\n");
  ParamSpace space(run, std::vector<std::string>{});
  EXPECT_EQ(names(space), (std::vector<std::string>{"trainer.max_steps", "trainer.strategy.tp"}));
}

TEST(ParamSpace, ExcludedArgsAreNotSwept) {
  TestRun run = run_from(
      "cuda_graph_scope = ['attn', 'mlp']\n[trainer]\nmax_steps = [10, 20]\n"
      "[trainer.strategy]\ntp = [1, 2]\n",
      "K = ['a', 'b']\n");
  run.test.dse_excluded_args = {"cmd_args.trainer.strategy", "cuda_graph_scope",
                                "extra_env_vars.K"};
  ParamSpace space(run, std::vector<std::string>{});
  EXPECT_EQ(names(space), (std::vector<std::string>{"trainer.max_steps"}));
  // A prefix only matches whole components: "cmd_args.trainer.max" excludes nothing.
  run.test.dse_excluded_args = {"cmd_args.trainer.max"};
  EXPECT_EQ(ParamSpace(run, std::vector<std::string>{}).axes().size(), 4u);
}

TEST(ParamSpace, NotASweepHasOnePoint) {
  TestRun run = run_from("tp = 2\n");
  ParamSpace space(run, std::vector<std::string>{"tp"});
  EXPECT_FALSE(space.is_sweep());
  EXPECT_EQ(space.size(), 1u);
}

TEST(ParamSpace, LastAxisVariesFastestAndDecodeRoundTrips) {
  TestRun run = run_from("a = [1, 2, 3]\nb = ['x', 'y']\nc = [true, false]\n");
  ParamSpace space(run, std::vector<std::string>{"a", "b", "c"});
  ASSERT_EQ(space.size(), 12u);
  std::vector<uint32_t> idx;
  space.decode(1, idx);
  EXPECT_EQ(idx, (std::vector<uint32_t>{0, 0, 0}));
  space.decode(2, idx);
  EXPECT_EQ(idx, (std::vector<uint32_t>{0, 0, 1}));
  space.decode(3, idx);
  EXPECT_EQ(idx, (std::vector<uint32_t>{0, 1, 0}));
  space.decode(12, idx);
  EXPECT_EQ(idx, (std::vector<uint32_t>{2, 1, 1}));
  for (uint64_t p = 1; p <= space.size(); ++p) {
    space.decode(p, idx);
    EXPECT_EQ(space.encode(idx), p);
  }
  Action act = space.action(7);  // (1, 1, 0) -> a=2, b='y', c=true
  ASSERT_EQ(act.size(), 3u);
  EXPECT_EQ(act[0].first, "a");
  EXPECT_EQ(act[0].second.as_int(), 2);
  EXPECT_EQ(act[1].second.as_string(), "y");
  EXPECT_TRUE(act[2].second.as_bool());
}

TEST(ParamSpace, CursorVisitsEveryPointInOrder) {
  TestRun run = run_from("a = [1, 2, 3]\nb = [4, 5]\nc = [6, 7, 8, 9]\n");
  ParamSpace space(run, std::vector<std::string>{});
  PointCursor cur(space);
  std::vector<uint32_t> expect;
  size_t changed = 99;
  uint64_t n = 0;
  std::vector<uint32_t> prev;
  while (cur.next(changed)) {
    ++n;
    EXPECT_EQ(cur.point(), n);
    space.decode(n, expect);
    EXPECT_EQ(cur.indices(), expect);
    if (!prev.empty()) {
      for (size_t a = 0; a < changed; ++a) EXPECT_EQ(prev[a], expect[a]);
      EXPECT_NE(prev[changed], expect[changed]);
    }
    prev = expect;
  }
  EXPECT_EQ(n, 24u);
}

TEST(ParamSpace, LargeSpaceDecodesWithoutMaterializing) {
  std::string toml;
  for (int i = 0; i < 12; ++i)
    toml += "f" + std::to_string(i) + " = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n";
  ParamSpace space(run_from(toml), std::vector<std::string>{});
  EXPECT_EQ(space.size(), 1000000000000ull);
  std::vector<uint32_t> idx;
  space.decode(space.size(), idx);
  for (uint32_t i : idx) EXPECT_EQ(i, 9u);
  EXPECT_EQ(space.encode(idx), space.size());
}

TEST(ParamSpace, EmptyListIsAnError) {
  TestRun run = run_from("tp = []\n");
  try {
    ParamSpace space(run, std::vector<std::string>{"tp"});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "cmd_args.tp");
    EXPECT_NE(std::string(e.what()).find("cmd_args.toml:1"), std::string::npos);
  }
}

TEST(ParamSpace, DuplicateValuesShareCanonicalKey) {
  TestRun run = run_from("candidate = [1, 1, 2, 1.0]\n");
  ParamSpace space(run, std::vector<std::string>{});
  std::vector<uint32_t> a{0}, b{1}, c{2}, d{3};
  EXPECT_EQ(space.canonical_key(a), space.canonical_key(b));
  EXPECT_NE(space.canonical_key(a), space.canonical_key(c));
  EXPECT_NE(space.canonical_key(a), space.canonical_key(d));  // 1 and 1.0 differ in type
}

TEST(ParamSpace, ApplyPointSetsArgsEnvAndNodes) {
  TestRun run = run_from("tp = [1, 2]\n[nested]\nx = ['a', 'b']\n", "E = ['p', 'q']\n");
  run.num_nodes = {1, 4};
  run.num_nodes_is_list = true;
  ParamSpace space(run, std::vector<std::string>{"tp"});
  ASSERT_EQ(space.size(), 16u);
  TestRun p = apply_point(run, space, 16);
  EXPECT_EQ(p.test.cmd_args.find("tp")->as_int(), 2);
  EXPECT_EQ(p.test.cmd_args.find_path("nested.x")->as_string(), "b");
  EXPECT_EQ(p.test.extra_env_vars.find("E")->as_string(), "q");
  EXPECT_EQ(p.num_nodes, std::vector<int64_t>{4});
  EXPECT_FALSE(p.num_nodes_is_list);
  // The raw table (best-config dumps) carries the point too.
  EXPECT_EQ(p.test.raw.find_path("cmd_args.tp")->as_int(), 2);
  EXPECT_EQ(p.test.raw.find_path("extra_env_vars.E")->as_string(), "q");
  // The base case is untouched.
  EXPECT_TRUE(run.test.cmd_args.find("tp")->is_array());
}

}  // namespace
}  // namespace bp
