#include "sweep/prune_log.h"

#include <gtest/gtest.h>

#include "config/toml_reader.h"
#include "testkit/testkit.h"
#include "util/strings.h"

namespace bp {
namespace {

// tp = [1, 2, 3] x scope = ['attn', 'mlp, "moe"']: T1 rejects tp = 3, T2 a scope holding a
// comma, with messages that hold commas, quotes and semicolons.
struct PrunedSweep {
  TestRun run;
  ParamSpace space;
  CompiledConstraints constraints;

  PrunedSweep() {
    run.id = "case";
    run.test.name = "t";
    run.test.cmd_args =
        read_toml_string("tp = [1, 2, 3]\nscope = ['attn', 'mlp, \"moe\"']\n", "cmd_args.toml");
    space = ParamSpace(run, std::vector<std::string>{});
    std::vector<FieldDecoder> decoders = {
        {"tp", {0}, [](const Value* v, int64_t* s, const std::string&) { s[0] = v->as_int(); }},
        {"scope",
         {1},
         [](const Value* v, int64_t* s, const std::string&) {
           s[1] = v->as_string().find(',') != std::string::npos;
         }},
    };
    std::vector<Rule> rules = {
        {"T1", "tp divides 4", [](const int64_t* s) { return 4 % s[0] == 0; },
         [](const int64_t* s) {
           return "tp=" + std::to_string(s[0]) + " does not divide 4, \"really\"";
         }},
        {"T2", "scope has no comma", [](const int64_t* s) { return s[1] == 0; },
         [](const int64_t*) { return std::string("scope has a comma; it is one value"); }},
    };
    constraints = compile_constraints(decoders, std::move(rules), run, space);
  }
};

// What PruneLog writes to pruned.csv, read_pruned reads back row for row.
TEST(PrunedCsv, RoundTrip) {
  testkit::TempDir dir;
  PrunedSweep sweep;
  std::vector<PrunedPoint> written;
  {
    PruneLog log(sweep.space, sweep.constraints, dir.path() / "pruned.csv");
    CompiledConstraints::Evaluator ev(sweep.constraints);
    std::vector<uint32_t> indices;
    for (uint64_t point = 1; point <= sweep.space.size(); ++point) {
      sweep.space.decode(point, indices);
      ev.load(indices);
      const uint64_t mask = ev.violations();
      if (!mask) continue;
      log.add(point, indices, mask, ev);
      PrunedPoint p;
      p.step = static_cast<int64_t>(point);
      p.values = describe_action(sweep.space.action_of(indices));
      for (const auto& [name, v] : sweep.space.action_of(indices))
        p.params.emplace_back(name, v.is_string() ? v.as_string() : v.to_toml_inline());
      std::vector<std::string> messages;
      for (const Violation& v : ev.explain(mask)) {
        p.rule_ids.push_back(v.rule_id);
        messages.push_back(v.message);
      }
      p.messages = join(messages, "; ");
      written.push_back(std::move(p));
    }
    log.flush();
    EXPECT_EQ(log.pruned(), 4u);
  }
  const std::vector<PrunedPoint> read = read_pruned(dir.path());
  ASSERT_EQ(read.size(), 4u);
  ASSERT_EQ(read.size(), written.size());
  for (size_t i = 0; i < read.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(read[i].step, written[i].step);
    EXPECT_EQ(read[i].values, written[i].values);
    EXPECT_EQ(read[i].params, written[i].params);
    EXPECT_EQ(read[i].rule_ids, written[i].rule_ids);
    EXPECT_EQ(read[i].messages, written[i].messages);
  }
  // Point 6 = (tp 3, scope 'mlp, "moe"') broke both rules.
  EXPECT_EQ(read[3].step, 6);
  EXPECT_EQ(read[3].values, "tp=3 scope=mlp, \"moe\"");
  EXPECT_EQ(read[3].rule_ids, (std::vector<std::string>{"T1", "T2"}));
  EXPECT_EQ(read[3].messages,
            "tp=3 does not divide 4, \"really\"; scope has a comma; it is one value");
}

TEST(PrunedCsv, GroupsPrunedPointsByRuleMostFrequentFirst) {
  testkit::TempDir d;
  testkit::write_file(d.path() / "pruned.csv",
                      "step,tp,pp,rule_ids,messages\n3,1,3,M4,num_layers=32 is not divisible by "
                      "pp=3\n6,2,3,M4;C1,\"a; b\"\n7,4,3,C1,c\n8,4,1,C1,d\n");
  auto points = read_pruned(d.path());
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[1].values, "tp=2 pp=3");
  auto rules = group_pruned(points, 2);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].id, "C1");
  EXPECT_EQ(rules[0].count, 3u);
  EXPECT_EQ(rules[0].examples.size(), 2u);
  EXPECT_EQ(rules[1].id, "M4");
  EXPECT_EQ(rules[1].examples[0], "step 3: tp=1 pp=3: num_layers=32 is not divisible by pp=3");
}

TEST(PrunedCsv, SkipsRowsWithTheWrongNumberOfCells) {
  testkit::TempDir d;
  testkit::write_file(d.path() / "pruned.csv",
                      "step,tp,rule_ids,messages\n2,1,C1,short\n3,1,C1\n4,1,C1,a,b\n"
                      "5,\"1,2\",\" C1 ; M4 \",\"x\"\"y\"\n");
  auto points = read_pruned(d.path());
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].step, 2);
  EXPECT_EQ(points[1].params, (std::vector<std::pair<std::string, std::string>>{{"tp", "1,2"}}));
  EXPECT_EQ(points[1].rule_ids, (std::vector<std::string>{"C1", "M4"}));
  EXPECT_EQ(points[1].messages, "x\"y");
  EXPECT_TRUE(read_pruned(d.path() / "missing").empty());
}

}  // namespace
}  // namespace bp
