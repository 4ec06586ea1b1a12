#include "systems/slurm/sbatch_script.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "util/error.h"

namespace bp {
namespace {

System cluster() {
  System s;
  s.name = "c";
  s.scheduler = "slurm";
  s.default_partition = "batch";
  s.mpi = "pmix";
  return s;
}

JobRequest request() {
  JobRequest r;
  r.name = "sleep_0";
  r.run_dir = "/results/sc/sleep/0";
  r.spec.command = "sleep 5; echo \"done $X\"";
  r.num_nodes = 2;
  return r;
}

TEST(SbatchScript, MinimalScript) {
  std::string s = make_sbatch_script(cluster(), request(), true);
  EXPECT_EQ(s.rfind("#!/bin/bash\n", 0), 0u);
  EXPECT_NE(s.find("#SBATCH --job-name=sleep_0\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --output=/results/sc/sleep/0/stdout.txt\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --error=/results/sc/sleep/0/stderr.txt\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH --partition=batch\n"), std::string::npos);
  EXPECT_NE(s.find("#SBATCH -N 2\n"), std::string::npos);
  EXPECT_EQ(s.find("--account"), std::string::npos);
  EXPECT_EQ(s.find("--gpus-per-node"), std::string::npos);
  EXPECT_EQ(s.find("--time"), std::string::npos);
  EXPECT_NE(s.find("\nsrun --export=ALL --mpi=pmix -N2 bash -c 'sleep 5; echo \"done $X\"'\n"),
            std::string::npos)
      << s;
}

TEST(SbatchScript, AllOptions) {
  System sys = cluster();
  sys.account = "acct";
  sys.distribution = "block";
  sys.gpus_per_node = 8;
  sys.ntasks_per_node = 8;
  sys.mpi = "none";
  sys.extra_srun_args = "--reservation resv1 --cpu-bind=none";
  sys.extra_sbatch_args = {"--exclusive", "--mem=0"};
  JobRequest req = request();
  req.time_limit = "00:10:00";
  req.exclude_nodes = {"bad1", "bad2"};
  req.extra_srun_args = "--container-writable";
  std::string s = make_sbatch_script(sys, req, true);
  for (const char* line :
       {"#SBATCH --account=acct\n", "#SBATCH --reservation=resv1\n",
        "#SBATCH --distribution=block\n", "#SBATCH -N 2\n", "#SBATCH --exclude=bad1,bad2\n",
        "#SBATCH --gpus-per-node=8\n", "#SBATCH --gres=gpu:8\n", "#SBATCH --ntasks-per-node=8\n",
        "#SBATCH --time=00:10:00\n", "#SBATCH --exclusive\n", "#SBATCH --mem=0\n"})
    EXPECT_NE(s.find(line), std::string::npos) << line << "\n" << s;
  EXPECT_NE(s.find("srun --export=ALL --mpi=none -N2 --reservation resv1 --cpu-bind=none "
                   "--container-writable bash -c "),
            std::string::npos)
      << s;
}

TEST(SbatchScript, NodeListReplacesCount) {
  JobRequest req = request();
  req.nodes = {"node1", "node2"};
  req.exclude_nodes = {"node3"};
  std::string s = make_sbatch_script(cluster(), req, true);
  EXPECT_NE(s.find("#SBATCH --nodelist=node1,node2\n"), std::string::npos);
  EXPECT_EQ(s.find("#SBATCH -N"), std::string::npos);
  EXPECT_EQ(s.find("--exclude"), std::string::npos);
  EXPECT_NE(s.find("srun --export=ALL --mpi=pmix bash -c"), std::string::npos);
}

TEST(SbatchScript, GpuDirectivesOnlyWhenSupported) {
  System sys = cluster();
  sys.gpus_per_node = 4;
  std::string s = make_sbatch_script(sys, request(), false);
  EXPECT_EQ(s.find("--gpus-per-node"), std::string::npos);
  EXPECT_EQ(s.find("--gres"), std::string::npos);
}

TEST(SbatchScript, SecretsFromTheEnvironmentAreNotWritten) {
  JobRequest req = request();
  req.spec.command = "echo \"$HF_TOKEN\"";
  req.spec.process_env = {{"HF_TOKEN", "hf_secret_value"}};
  std::string s = make_sbatch_script(cluster(), req, true);
  EXPECT_EQ(s.find("hf_secret_value"), std::string::npos);
  EXPECT_NE(s.find("$HF_TOKEN"), std::string::npos);
}

// The per-node form the Megatron-Bridge gate asks for: the node from a shell variable, output
// files per node with the folder quoted (a folder named "out$(touch x)" stays a name).
TEST(SbatchScript, PerNodeLaunchQuotesTheFolderAndExpandsTheNode) {
  JobRequest req = request();
  req.num_nodes = 1;
  const PerNodeLaunch on_node{"_node", "/r/out$(touch x)"};
  EXPECT_EQ(make_srun_line(cluster(), req, &on_node),
            "srun --nodelist=\"$_node\" --output='/r/out$(touch x)/stdout_'\"$_node\".txt "
            "--error='/r/out$(touch x)/stderr_'\"$_node\".txt --export=ALL --mpi=pmix -N1 "
            "bash -c 'sleep 5; echo \"done $X\"'");
  const PerNodeLaunch bad{"_node; touch x", "/r"};
  EXPECT_THROW(make_srun_line(cluster(), req, &bad), std::logic_error);
}

TEST(SbatchScript, MpiIsOneQuotedWordOrLeftToSlurm) {
  System sys = cluster();
  sys.mpi = "pmix;touch x";
  EXPECT_NE(make_srun_line(sys, request()).find(" '--mpi=pmix;touch x' -N2 "), std::string::npos);
  sys.mpi.clear();
  EXPECT_EQ(make_srun_line(sys, request()).find("--mpi"), std::string::npos);
}

TEST(SbatchScript, HeaderExtrasFollowTheSystemsDirectives) {
  System sys = cluster();
  sys.extra_sbatch_args = {"--exclusive"};
  BatchHeaderExtras extras;
  extras.comment = "the gate of m1";
  extras.extra_directives = {"--segment=2"};
  EXPECT_EQ(make_sbatch_header(sys, request(), extras),
            "#!/bin/bash\n# the gate of m1\n#SBATCH --job-name=sleep_0\n"
            "#SBATCH --output=/results/sc/sleep/0/stdout.txt\n"
            "#SBATCH --error=/results/sc/sleep/0/stderr.txt\n#SBATCH --partition=batch\n"
            "#SBATCH -N 2\n#SBATCH --exclusive\n#SBATCH --segment=2\n");
  extras.extra_directives = {"--segment=2\ntouch x"};
  EXPECT_THROW(make_sbatch_header(sys, request(), extras), ValueError);
  extras.extra_directives.clear();
  extras.comment = "a\ntouch x";
  EXPECT_THROW(make_sbatch_header(sys, request(), extras), ValueError);
}

TEST(SbatchScript, ReservationForms) {
  EXPECT_EQ(reservation_from_srun_args("--reservation=abc"), "abc");
  EXPECT_EQ(reservation_from_srun_args("-x --reservation abc -y"), "abc");
  EXPECT_EQ(reservation_from_srun_args("--exclusive"), "");
}

}  // namespace
}  // namespace bp
