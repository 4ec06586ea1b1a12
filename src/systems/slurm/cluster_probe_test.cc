#include "systems/slurm/cluster_probe.h"

#include <gtest/gtest.h>

#include "testkit/fake_command_runner.h"

namespace bp {
namespace {

using testkit::FakeCommandRunner;

TEST(ClusterProbe, GpuDirectivesFromGresTypes) {
  EXPECT_TRUE(gpu_directives_from_config(FakeCommandRunner::ok("GresTypes  = gpu,shard\n")));
  EXPECT_FALSE(gpu_directives_from_config(FakeCommandRunner::ok("GresTypes  = (null)\n")));
  EXPECT_TRUE(gpu_directives_from_config(FakeCommandRunner::fail("scontrol: error: ...")));
  CommandResult warned = FakeCommandRunner::ok("GresTypes = (null)\n");
  warned.err = "scontrol: warning";
  EXPECT_TRUE(gpu_directives_from_config(warned));
}

TEST(ClusterProbe, SystemSettingWinsWithoutAskingSlurm) {
  FakeCommandRunner runner(
      [](const std::vector<std::string>&) { return FakeCommandRunner::ok("GresTypes = gpu\n"); });
  System sys;
  sys.supports_gpu_directives = false;
  EXPECT_FALSE(probe_gpu_directives(sys, runner));
  EXPECT_TRUE(runner.calls.empty());
  sys.supports_gpu_directives.reset();
  EXPECT_TRUE(probe_gpu_directives(sys, runner));
  EXPECT_EQ(runner.calls, (std::vector<std::string>{"scontrol show config"}));
}

TEST(ClusterProbe, JobCompletionLog) {
  EXPECT_EQ(job_completion_log("JobCompLoc = /var/log/jc.txt\nJobCompType = jobcomp/filetxt\n"),
            std::filesystem::path("/var/log/jc.txt"));
  EXPECT_FALSE(job_completion_log("JobCompLoc = /x\nJobCompType = jobcomp/none\n"));
  EXPECT_FALSE(job_completion_log("JobCompType = jobcomp/filetxt\n"));
}

}  // namespace
}  // namespace bp
