#include "workloads/megatron_bridge/nccl_gate.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testkit/testkit.h"

namespace bp::mbridge {
namespace {

namespace fs = std::filesystem;

class GateVerdict : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / kGateDir);
    std::ofstream(dir_ / kGateScript) << "#!/bin/bash\n";
  }
  void write(const std::string& name, const std::string& text) {
    testkit::write_file(dir_ / kGateDir / name, text);
  }
  testkit::TempDir dir_;
};

TEST_F(GateVerdict, NoGateOrAPassedGateLeavesTheVerdictToTheTraining) {
  fs::remove(dir_ / kGateScript);
  EXPECT_FALSE(gate_verdict(dir_));
  std::ofstream(dir_ / kGateScript) << "#!/bin/bash\n";
  write("result", "PASSED\n");
  EXPECT_FALSE(gate_verdict(dir_));
}

TEST_F(GateVerdict, AFailedNodeSkipsTheTrainingAndNamesNodeAndFigure) {
  write("results.txt",
        "# a2a: Avg bus bandwidth (GB/s); requires Avg bus bandwidth >= 100.0 GB/s\n"
        "a2a node1 PASSED 155.6\n"
        "a2a node2 FAILED 27.4\n"
        "a2a node3 FAILED none\n");
  write("result", "FAILED\n");
  auto v = gate_verdict(dir_);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok);
  EXPECT_TRUE(v->skipped);
  EXPECT_EQ(v->message,
            "pre-test gate failed on node node2 (a2a): 27.4 [a2a: Avg bus bandwidth (GB/s); "
            "requires Avg bus bandwidth >= 100.0 GB/s]; node node3 (a2a): none [a2a: Avg bus "
            "bandwidth (GB/s); requires Avg bus bandwidth >= 100.0 GB/s]; the training job was "
            "not started");
}

TEST_F(GateVerdict, AGateThatNeverFinishedIsAFailureNotASkip) {
  auto v = gate_verdict(dir_);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok);
  EXPECT_FALSE(v->skipped);
  EXPECT_NE(v->message.find("did not finish"), std::string::npos) << v->message;
}

}  // namespace
}  // namespace bp::mbridge
