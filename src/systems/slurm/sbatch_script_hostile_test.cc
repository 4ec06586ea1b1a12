// The sleep workload's sbatch.sh run for real (bash, with srun and scontrol replaced by
// recording shims) after every user-controlled field was given a value that runs a command if
// it is ever evaluated by a shell: nothing may run, every value must arrive as data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "systems/slurm/sbatch_script.h"
#include "testkit/testkit.h"
#include "util/error.h"
#include "util/strings.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testkit::read_file;

class SbatchHostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "bin");
    // srun records its words (one per line) and runs the command it was given, as srun would.
    write_exec("srun",
               "#!/bin/bash\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$SRUN_ARGS\"\n"
               "exec bash -c \"${@: -1}\"\n");
    write_exec("scontrol", "#!/bin/bash\necho node1\n");
  }

  void write_exec(const std::string& name, const std::string& text) {
    testkit::write_executable(dir_ / "bin" / name, text);
  }
  // A value that creates <dir>/pwned-<tag>* if a shell ever evaluates it, in every way: command
  // substitution, backticks, a command separator, and quotes that try to break out.
  std::string hostile(const std::string& tag) const {
    std::string m = (dir_ / ("pwned-" + tag)).string();
    return "x$(touch " + m + "1)`touch " + m + "2`;touch " + m + "3;'\"$(touch " + m + "4)\"'";
  }
  std::vector<std::string> pwned() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_))
      if (e.path().filename().string().starts_with("pwned")) out.push_back(e.path());
    return out;
  }
  testkit::TempDir dir_;
};

TEST_F(SbatchHostileTest, NoFieldExecutesAndEachArrivesAsData) {
  System sys;
  sys.name = "c";
  sys.scheduler = "slurm";
  sys.default_partition = hostile("partition");
  sys.account = hostile("account");
  sys.distribution = hostile("distribution");
  sys.mpi = hostile("mpi");
  sys.extra_srun_args = "--comment=" + hostile("sys-srun") + " --x " + shell_quote(hostile("w"));
  sys.extra_sbatch_args = {"--comment=" + hostile("sbatch")};
  sys.gpus_per_node = 8;
  sys.ntasks_per_node = 8;
  JobRequest req;
  req.name = hostile("name");
  req.run_dir = dir_ / hostile("dir");
  req.spec.command = "echo ran > " + shell_quote((dir_ / "command-ran").string());
  req.num_nodes = 1;
  req.exclude_nodes = {hostile("exclude")};
  req.time_limit = hostile("time");
  req.extra_srun_args = "--comment=" + shell_quote(hostile("case-srun"));

  std::string script = make_sbatch_script(sys, req, true);
  fs::path file = dir_ / "sbatch.sh";
  std::ofstream(file) << script;
  std::string cmd = "cd " + shell_quote(dir_.string()) +
                    " && PATH=" + shell_quote((dir_ / "bin").string()) +
                    ":$PATH SRUN_ARGS=" + shell_quote((dir_ / "srun-args").string()) + " bash " +
                    shell_quote(file.string()) + " > out.txt 2>&1";
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << read_file(dir_ / "out.txt") << "\n" << script;

  EXPECT_EQ(pwned(), std::vector<std::string>{}) << script;
  EXPECT_TRUE(fs::exists(dir_ / "command-ran")) << "the command itself must run\n" << script;
  // Every directive stays on one line, before the first command.
  size_t body = script.find("\n\n");
  for (const std::string& line : split(script.substr(0, body), '\n'))
    EXPECT_TRUE(line.starts_with("#")) << line;
  // srun got the options as single words, unchanged.
  std::string words = read_file(dir_ / "srun-args");
  EXPECT_THAT(words, HasSubstr("--mpi=" + hostile("mpi") + "\n"));
  // Unquoted, the value splits into words as the user's shell would split it; each word is data.
  EXPECT_THAT(
      words, HasSubstr("--comment=x$(touch\n" + (dir_ / "pwned-sys-srun1").string() + ")`touch\n"));
  EXPECT_THAT(words, HasSubstr("\n" + hostile("w") + "\n"));
  EXPECT_THAT(words, HasSubstr("--comment=" + hostile("case-srun") + "\n"));
}

// Config loading refuses control characters; the generator refuses them too.
TEST_F(SbatchHostileTest, NewlineInADirectiveIsRefused) {
  System sys;
  sys.name = "c";
  sys.scheduler = "slurm";
  sys.account = "acct\ntouch " + (dir_ / "pwned").string();
  JobRequest req;
  req.name = "ok";
  req.run_dir = dir_;
  req.spec.command = "true";
  EXPECT_THROW(make_sbatch_script(sys, req, true), ValueError);
  req.name = "a\nb";
  sys.account = "";
  EXPECT_THROW(make_sbatch_script(sys, req, true), ValueError);
}

}  // namespace
}  // namespace bp
