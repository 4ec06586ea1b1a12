#include "sweep/trajectory.h"

#include <gtest/gtest.h>

#include "config/python_repr.h"
#include "testkit/testkit.h"

namespace bp {
namespace {

// What TrajectoryWriter writes, read_trajectory reads back row for row, and each action's repr
// reads back as the action: string values with commas, both quotes, backslashes and newlines
// included (the CSV quoting and the repr escapes both round-trip).
TEST(Trajectory, RoundTrip) {
  testkit::TempDir dir;
  const std::vector<Action> actions = {
      {{"tp", Value::integer(2)}, {"scope", Value::string("attn")}},
      {{"tp", Value::integer(4)}, {"scope", Value::string("mlp, \"moe\"")}},
      {{"tp", Value::integer(8)}, {"scope", Value::string("it's \"both\"\\\nnext")}},
      {{"lr", Value::floating(1e-05)}, {"fp8", Value::boolean(false)}},
  };
  const std::vector<double> rewards = {0.5, -1.0, 0.25, 3.0};
  const std::vector<std::vector<double>> observations = {{2.0}, {-1.0}, {4.0, 1.5}, {}};
  {
    TrajectoryWriter writer(dir.path() / "trajectory.csv");
    for (size_t i = 0; i < actions.size(); ++i)
      writer.add(i + 1, actions[i], rewards[i], observations[i]);
  }
  const std::vector<TrajectoryRow> rows = read_trajectory(dir.path());
  ASSERT_EQ(rows.size(), actions.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(rows[i].step, static_cast<int>(i + 1));
    EXPECT_EQ(rows[i].action, action_repr(actions[i]));
    EXPECT_EQ(rows[i].reward, rewards[i]);
    EXPECT_EQ(rows[i].observation, observation_repr(observations[i]));
    const auto read_back = parse_python_dict_repr(rows[i].action);
    ASSERT_EQ(read_back.size(), actions[i].size());
    for (size_t k = 0; k < read_back.size(); ++k) {
      EXPECT_EQ(read_back[k].first, actions[i][k].first);
      EXPECT_EQ(python_repr(read_back[k].second), python_repr(actions[i][k].second));
    }
  }
}

TEST(Trajectory, ReadsCloudAiQuotingAndSkipsRowsThatDoNotParse) {
  testkit::TempDir dir;
  testkit::write_file(dir.path() / "trajectory.csv",
                      "step,action,reward,observation\n"
                      "1,\"{'tp': 1, 'pp': 1}\",0.5,[2.0]\n"
                      "2,{'candidate': 5}, 0.25 ,[4.0]\r\n"  // unquoted, blanks, CRLF
                      "x,{},1.0,[]\n"                        // no step
                      "4,{},fast,[]\n"                       // no reward
                      "5,{}\n"                               // too few cells
                      "6,\"{'s': 'a,\"\"b\"\"'}\",-1.0,\"[-1.0, 2.0]\"\n");
  const std::vector<TrajectoryRow> rows = read_trajectory(dir.path());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].action, "{'tp': 1, 'pp': 1}");
  EXPECT_EQ(rows[1].step, 2);
  EXPECT_EQ(rows[1].action, "{'candidate': 5}");
  EXPECT_EQ(rows[1].reward, 0.25);
  EXPECT_EQ(rows[2].step, 6);
  EXPECT_EQ(rows[2].action, "{'s': 'a,\"b\"'}");
  EXPECT_EQ(rows[2].observation, "[-1.0, 2.0]");
  EXPECT_TRUE(read_trajectory(dir.path() / "missing").empty());
}

}  // namespace
}  // namespace bp
