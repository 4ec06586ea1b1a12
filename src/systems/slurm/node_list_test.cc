#include "systems/slurm/node_list.h"

#include <chrono>

#include <gtest/gtest.h>

#include "testkit/fake_command_runner.h"
#include "util/error.h"

namespace bp {
namespace {

using testkit::FakeCommandRunner;

using Names = std::vector<std::string>;

TEST(ExpandNodeList, RangesListsAndPadding) {
  EXPECT_EQ(expand_node_list("node0[1-3],x"), (Names{"node01", "node02", "node03", "x"}));
  EXPECT_EQ(expand_node_list("node-[001-003]"), (Names{"node-001", "node-002", "node-003"}));
  EXPECT_EQ(expand_node_list("n[08-10]"), (Names{"n08", "n09", "n10"}));
  EXPECT_EQ(expand_node_list("n[9-10]"), (Names{"n9", "n10"}));
  EXPECT_EQ(expand_node_list("n[1,3,5-6]"), (Names{"n1", "n3", "n5", "n6"}));
  EXPECT_EQ(expand_node_list("a[1-2],b[3-4]"), (Names{"a1", "a2", "b3", "b4"}));
  EXPECT_EQ(expand_node_list("r[1-2]n[1-2]"), (Names{"r1n1", "r1n2", "r2n1", "r2n2"}));
  EXPECT_EQ(expand_node_list("gpu[1-2]-ib"), (Names{"gpu1-ib", "gpu2-ib"}));
  EXPECT_EQ(expand_node_list("single"), (Names{"single"}));
  EXPECT_EQ(expand_node_list(" a , b "), (Names{"a", "b"}));
  EXPECT_TRUE(expand_node_list("").empty());
}

TEST(ExpandNodeList, MalformedListsAreErrors) {
  EXPECT_THROW(expand_node_list("node[1-3"), ValueError);
  EXPECT_THROW(expand_node_list("node1-3]"), ValueError);
  EXPECT_THROW(expand_node_list("node[3-1]"), ValueError);
  EXPECT_THROW(expand_node_list("node[a-b]"), ValueError);
  EXPECT_THROW(expand_node_list("node[]"), ValueError);
}

System two_groups() {
  System s;
  s.name = "cluster";
  s.scheduler = "slurm";
  slurm_settings(s).partitions = {{"main", {{"g1", {"node[1-4]"}}, {"g2", {"gpu[01-02]"}}}}};
  return s;
}

TEST(ResolveNodes, PrefersIdleNodesOfTheGroup) {
  FakeCommandRunner runner([](const std::vector<std::string>& argv) {
    EXPECT_EQ(argv[0], "sinfo");
    return FakeCommandRunner::ok(
        "node1|alloc\nnode2|down*\nnode3|idle\nnode4|mix\ngpu01|idle\ngpu02|drain\n");
  });
  System sys = two_groups();
  EXPECT_EQ(resolve_nodes(sys, {"main:g1:1"}, runner), (Names{"node3"}));
  EXPECT_EQ(resolve_nodes(sys, {"main:g1:3"}, runner), (Names{"node1", "node3", "node4"}));
  EXPECT_EQ(resolve_nodes(sys, {"main:g1:max_avail"}, runner), (Names{"node3"}));
  EXPECT_EQ(resolve_nodes(sys, {"main:g1:1", "main:g1:1"}, runner), (Names{"node3", "node4"}));
  EXPECT_EQ(resolve_nodes(sys, {"main:g2:1", "extra[1-2]"}, runner),
            (Names{"extra1", "extra2", "gpu01"}));
  EXPECT_EQ(runner.count("sinfo"), 5);  // one per resolve, none for plain lists
}

TEST(ResolveNodes, ErrorsNameTheSpec) {
  FakeCommandRunner runner(
      [](const std::vector<std::string>&) { return FakeCommandRunner::ok("node1|idle\n"); });
  System sys = two_groups();
  try {
    resolve_nodes(sys, {"main:g1:4"}, runner);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("main:g1:4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("only 1 usable"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_nodes(sys, {"other:g1:1"}, runner), ValueError);
  EXPECT_THROW(resolve_nodes(sys, {"main:nope:1"}, runner), ValueError);
  EXPECT_THROW(resolve_nodes(sys, {"main:g1:x"}, runner), ValueError);
}

TEST(ResolveNodes, WithoutSinfoTakesGroupOrder) {
  FakeCommandRunner runner([](const std::vector<std::string>&) {
    return FakeCommandRunner::fail("sinfo: command not found", 127);
  });
  EXPECT_EQ(resolve_nodes(two_groups(), {"main:g1:2"}, runner), (Names{"node1", "node2"}));
  EXPECT_TRUE(resolve_nodes(two_groups(), {}, runner).empty());
}

}  // namespace
}  // namespace bp

namespace bp {
namespace {

// Found by fuzz_node_list: a long prefix times many names asked for gigabytes.
TEST(NodeListBounds, HugeExpansionsAreRefused) {
  EXPECT_THROW(expand_node_list("r[1-99999]n[1-99999]"), ValueError);
  EXPECT_THROW(expand_node_list(std::string(1000, 'x') + "[1-99999]"), ValueError);
  std::string many = "n[";
  for (int i = 0; i < 100; ++i) many += "1-99999,";
  many += "1]";
  EXPECT_THROW(expand_node_list(many), ValueError);
  // Found by fuzz_node_list (a timeout): the product is checked before it is built.
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(expand_node_list("a[1-800]b-[1-800]c[1-800]"), ValueError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_EQ(expand_node_list("r[1-2]n[1-3]").size(), 6u);
  EXPECT_EQ(expand_node_list("n[1-50000]").size(), 50000u);
}

}  // namespace
}  // namespace bp
