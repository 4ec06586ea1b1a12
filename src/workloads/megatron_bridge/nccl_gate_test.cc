#include "workloads/megatron_bridge/nccl_gate.h"

#include <gtest/gtest.h>

#include <gmock/gmock.h>

#include <cstdlib>
#include <fstream>

#include "config/toml_reader.h"
#include "loaders/load_test.h"
#include "testkit/testkit.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace bp::mbridge {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// A Megatron-Bridge case gated by one NCCL all-to-all per node, on a Slurm system.
class WriteGate : public ::testing::Test {
 protected:
  WriteGate() {
    system_.name = "c";
    system_.scheduler = "slurm";
    system_.default_partition = "p1";
    system_.gpus_per_node = 8;
    run_.id = "m1";
    run_.time_limit = "00:10:00";
    TestRun a2a;
    a2a.id = "a2a";
    a2a.test = parse_test_table(
        read_toml_string("name = \"nccl\"\ndescription = \"d\"\ntest_template_name = \"NcclTest\"\n"
                         "[cmd_args]\nsubtest_name = \"alltoall_perf_mpi\"\nmin_busbw = 100.0\n",
                         "nccl.toml"));
    hook_.name = "gate";
    hook_.runs.push_back(a2a);
  }
  // The gate script written for run_ on system_ into `dir`.
  std::string gate(const fs::path& dir) {
    fs::create_directories(dir);
    RunContext ctx{system_, run_, dir, 2, {}, true};
    write_gate(ctx, hook_);
    return testkit::read_file(dir / kGateScript);
  }
  System system_;
  TestRun run_;
  Hook hook_;
  testkit::TempDir tmp_;
};

TEST_F(WriteGate, HeaderFollowsCloudAI) {
  system_.extra_srun_args = "--reservation r1";
  system_.extra_sbatch_args = {"--exclusive"};
  run_.extra_srun_args = "--segment 2 --network=sn_all";
  std::string s = gate(tmp_.path());
  EXPECT_THAT(s, HasSubstr("#SBATCH --job-name=pre_hook_m1\n#SBATCH --output=" +
                           (tmp_.path() / "pre_hook/stdout.txt").string() + "\n"));
  EXPECT_THAT(s, HasSubstr("#SBATCH --partition=p1\n#SBATCH --reservation=r1\n#SBATCH -N 2\n"
                           "#SBATCH --gpus-per-node=8\n#SBATCH --gres=gpu:8\n"
                           "#SBATCH --time=00:10:00\n#SBATCH --exclusive\n"
                           "#SBATCH --segment=2\n#SBATCH --network=sn_all\n"));
}

TEST_F(WriteGate, HostileValuesStayWords) {
  system_.extra_srun_args = "--exclusive $(touch X)";
  system_.mpi = "pmix;touch X";
  const fs::path dir = tmp_.path() / "out$(touch${IFS}X)";
  std::string s = gate(dir);
  const std::string out = (dir / "pre_test" / "a2a").string();
  EXPECT_THAT(s, HasSubstr(" --exclusive '$(touch' 'X)' "));
  EXPECT_THAT(s, HasSubstr(" '--mpi=pmix;touch X' "));
  EXPECT_THAT(s, HasSubstr("srun --nodelist=\"$_node\" --output=" + shell_quote(out + "/stdout_") +
                           "\"$_node\".txt --error=" + shell_quote(out + "/stderr_") +
                           "\"$_node\".txt --export=ALL "));
  // The output check reads the same file, quoted the same way, inside FIGURE=$(...).
  EXPECT_THAT(s, HasSubstr("' " + shell_quote(out + "/stdout_") + "\"$_node\".txt 2>/dev/null)\n"));
  EXPECT_THAT(s, Not(HasSubstr("\"" + out)));  // no path inside double quotes
  EXPECT_TRUE(fs::perms::owner_exec ==
              (fs::status(dir / kGateScript).permissions() & fs::perms::owner_exec));
}

// The values, through the gate script run by bash with Slurm's commands failing
// (scontrol names two nodes so that the srun lines run): nothing named X appears.
TEST_F(WriteGate, RunUnderBashTheGateExecutesNothingItWasGiven) {
  system_.extra_srun_args = "--exclusive $(touch X)";
  system_.mpi = "pmix;touch X";
  const fs::path dir = tmp_.path() / "out$(touch${IFS}X)";
  gate(dir);
  const fs::path bin = tmp_.path() / "bin";
  const std::string stand_in =
      "#!/bin/sh\nprintf '%s\\n' \"$(basename \"$0\")\" \"$@\" >>\"$STAND_IN_LOG\"\n";
  testkit::write_executable(bin / "scontrol", stand_in + "printf 'n1\\nn2\\n'\n");
  for (const char* name : {"srun", "sbatch", "squeue", "scancel"})
    testkit::write_executable(bin / name, stand_in + "exit 1\n");
  CommandOptions opts;
  opts.cwd = tmp_.path();
  opts.env = {{"PATH", bin.string() + ":" + std::getenv("PATH")},
              {"STAND_IN_LOG", (tmp_.path() / "calls.txt").string()}};
  CommandResult r = run_command({"bash", (dir / kGateScript).string()}, opts);
  EXPECT_EQ(r.status.code, 1) << r.out << r.err;  // srun failed, so the gate fails
  for (const auto& entry : fs::recursive_directory_iterator(tmp_.path()))
    EXPECT_NE(entry.path().filename(), "X") << entry.path();
  const std::string calls = testkit::read_file(tmp_.path() / "calls.txt");
  EXPECT_THAT(calls, HasSubstr("\nsrun\n"));
  EXPECT_THAT(calls, HasSubstr("\n--mpi=pmix;touch X\n"));
  EXPECT_THAT(calls, HasSubstr("\n--exclusive\n$(touch\nX)\n"));
  EXPECT_EQ(testkit::read_file(dir / kGateDir / "result"), "FAILED\n");
}

TEST_F(WriteGate, ADirectiveWithANewlineIsRefused) {
  system_.extra_sbatch_args = {"--comment=a\ntouch X"};
  EXPECT_THROW(gate(tmp_.path()), ValueError);
  EXPECT_FALSE(fs::exists(tmp_.path() / kGateScript));
}

TEST_F(WriteGate, AConversionThatDropsAWordIsRefused) {
  run_.extra_srun_args = "--exclusive $(touch X)";
  try {
    gate(tmp_.path());
    FAIL() << "the gate accepted extra_srun_args whose conversion drops a word";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Tests.m1.extra_srun_args: the word 'X)'"));
  }
}

TEST_F(WriteGate, NeedsASchedulerThatWritesBatchScripts) {
  system_.scheduler = "standalone";
  try {
    gate(tmp_.path());
    FAIL() << "a standalone system wrote a gate";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("standalone scheduler writes no batch scripts"));
  }
}

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
