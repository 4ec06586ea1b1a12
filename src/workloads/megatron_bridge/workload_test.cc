// Runs the generated wrapper with bash against a fake launcher (a bash script standing in for
// setup_experiment.py) and checks what the wrapper prints, writes and returns.
#include "workloads/megatron_bridge/workload.h"

#include "util/strings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "testkit/testkit.h"
#include "util/error.h"
#include "workloads/megatron_bridge/mbridge_test_helpers.h"
#include "workloads/megatron_bridge/wrapper.h"

namespace bp::mbridge {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::test_with_args;
using testkit::read_file;
using testkit::write_executable;

constexpr const char* kToken = "hf_TopSecretToken123";
constexpr const char* kWandbKey = "wandbSecretKey456";

struct Outcome {
  int rc = -1;
  std::string output;  // stdout and stderr of the wrapper
};

// Runs a command with /bin/sh, stdout and stderr together, until every writer closed the pipe
// (the wrapper's tee processes included), so the run dir files are complete afterwards.
Outcome run(const std::string& command) {
  Outcome o;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return o;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.output.append(buf, n);
  int status = pclose(p);
  o.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// A temporary install dir with a fake Megatron-Bridge clone and NeMo-Run venv, and a run dir.
class MbridgeWrapperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_dir_ = root_ / "results" / "case" / "0";
    fs::create_directories(run_dir_);
    system_.name = "test";
    system_.scheduler = "slurm";
    system_.install_path = root_ / "install";
    system_.output_path = root_ / "results";
    system_.default_partition = "main";
    system_.gpus_per_node = 8;
    set_pip_exit(0);
    setenv("HF_TOKEN", kToken, 1);
    unsetenv("BENCHPILOT_LAUNCHER_PYTHON");
  }
  void TearDown() override { unsetenv("HF_TOKEN"); }

  // The venv interpreter: answers `-m pip ...` with `rc`, runs anything else with python3.
  void set_pip_exit(int rc) {
    write_executable(system_.install_path / "Run__main-venv" / "bin" / "python",
                     "#!/bin/bash\nif [ \"$1\" = -m ]; then echo \"fake pip: $*\"; exit " +
                         std::to_string(rc) + "; fi\nexec python3 \"$@\"\n");
  }

  void set_launcher_python(const std::string& code) {
    write_executable(system_.install_path / "Megatron-Bridge__v0.3.0" / "scripts" / "performance" /
                         "setup_experiment.py",
                     code);
  }

  // A launcher written in bash: the Python launcher becomes bash running `body` with the
  // launcher's arguments (exec, so signals reach it).
  void set_launcher(const std::string& body) {
    set_launcher_python("import os, sys\nos.execvp('bash', ['bash', '-c', r'''" + body +
                        "''', 'setup_experiment.py'] + sys.argv[1:])\n");
  }

  RunSpec prepare(const TestDefinition& test) {
    run_.id = "case";
    run_.test = test;
    RunContext ctx{system_, run_, run_dir_};
    return megatron_bridge_workload().prepare(ctx);
  }

  RunSpec prepare(std::string_view cmd_args = "", std::string_view extra_toml = "") {
    return prepare(test_with_args(cmd_args, extra_toml));
  }

  // Every file of the run dir, concatenated.
  std::string all_run_files() {
    std::string all;
    for (const auto& e : fs::recursive_directory_iterator(root_ / "results"))
      if (e.is_regular_file()) all += read_file(e.path());
    return all;
  }

  testkit::TempDir root_;
  fs::path run_dir_;
  System system_;
  TestRun run_;
};

TEST_F(MbridgeWrapperTest, PrepareWritesWrapperAndCommand) {
  set_launcher("exit 0\n");
  RunSpec spec = prepare("wandb_key = \"" + std::string(kWandbKey) + "\"\n");
  fs::path wrapper = run_dir_ / kWrapperFile;
  EXPECT_EQ(spec.command, "bash " + wrapper.string());
  EXPECT_TRUE(spec.self_submitting);
  EXPECT_EQ(read_file(run_dir_ / kCommandFile), "bash " + wrapper.string() + "\n");
  EXPECT_NE(fs::status(wrapper).permissions() & fs::perms::owner_exec, fs::perms::none);
  ASSERT_EQ(spec.process_env.size(), 2u);
  EXPECT_EQ(spec.process_env[0], (std::pair<std::string, std::string>{"HF_TOKEN", kToken}));
  EXPECT_EQ(spec.process_env[1], (std::pair<std::string, std::string>{"WANDB_API_KEY", kWandbKey}));
  std::string script = read_file(wrapper);
  EXPECT_THAT(script, HasSubstr("set -o pipefail"));
  // The secrets are named, never expanded, on the launcher's command line.
  EXPECT_THAT(script, HasSubstr("\"$HELPER\" launch -hf=HF_TOKEN -wdk=WANDB_API_KEY -- "));
  EXPECT_THAT(script, Not(HasSubstr("\"$HF_TOKEN\"")));
  EXPECT_THAT(script, Not(HasSubstr("\"$WANDB_API_KEY\"")));
  EXPECT_EQ(read_file(run_dir_ / kHelperFile), helper_script());
  EXPECT_THAT(all_run_files(), Not(HasSubstr(kToken)));
  EXPECT_THAT(all_run_files(), Not(HasSubstr(kWandbKey)));
}

TEST_F(MbridgeWrapperTest, PipInstallPrecedesLauncherOnlyWithTheVenv) {
  set_launcher("exit 0\n");
  prepare();
  std::string script = read_file(run_dir_ / kWrapperFile);
  size_t pip = script.find("-m pip install wandb numpy==1.26.4");
  size_t launcher = script.find("setup_experiment.py");
  ASSERT_NE(pip, std::string::npos);
  ASSERT_NE(launcher, std::string::npos);
  EXPECT_LT(pip, launcher);

  system_.workload_settings["launcher_python"] = "/bin/bash";
  prepare();
  script = read_file(run_dir_ / kWrapperFile);
  EXPECT_THAT(script, Not(HasSubstr("pip install")));
  EXPECT_THAT(script, HasSubstr("export NEMORUN_HOME=" + shell_quote(run_dir_.string()) + "\n"));
  EXPECT_THAT(script, HasSubstr("PYTHON=/bin/bash\n"));
}

TEST_F(MbridgeWrapperTest, JobIdPrintedAndExitZeroEvenWhenLauncherFails) {
  set_launcher("echo 'INFO launching'\necho '  - Job id: 4242'\necho 'late failure'\nexit 1\n");
  RunSpec spec = prepare();
  Outcome o = run(spec.command);
  EXPECT_EQ(o.rc, 0) << o.output;
  EXPECT_THAT(o.output, HasSubstr("Submitted batch job 4242\n"));
  EXPECT_THAT(o.output, HasSubstr("exited with 1 after submitting its job"));
  EXPECT_THAT(o.output, HasSubstr("late failure"));  // the log's tail
  EXPECT_THAT(read_file(run_dir_ / kWrapperStdout), HasSubstr("Submitted batch job 4242"));
  EXPECT_THAT(read_file(run_dir_ / kWrapperStderr), HasSubstr("late failure"));
  std::string log = read_file(run_dir_ / kLauncherLog);
  EXPECT_THAT(log, HasSubstr("fake pip: -m pip install wandb numpy==1.26.4"));
  EXPECT_THAT(log, HasSubstr("Job id: 4242"));
}

TEST_F(MbridgeWrapperTest, EveryJobIdPhrasingIsRecognised) {
  for (const char* line : {"Submitted batch job 11", "Job id: 12", "- Job id: 13", "Job ID: 14",
                           "Experiment submitted with Job ID 15", "SUBMITTED BATCH JOB 16",
                           "[10:01:02] INFO Launched app: slurm_tunnel://nemo_run/17"}) {
    set_launcher(std::string("echo '") + line + "'\n");
    RunSpec spec = prepare();
    Outcome o = run(spec.command);
    std::string id = std::string(line).substr(std::string(line).size() - 2);
    EXPECT_EQ(o.rc, 0) << line;
    EXPECT_THAT(o.output, HasSubstr("Submitted batch job " + id + "\n")) << line;
  }
}

TEST_F(MbridgeWrapperTest, NoJobIdExitsOneWithTail) {
  set_launcher("echo 'Traceback: boom'\nexit 3\n");
  RunSpec spec = prepare();
  Outcome o = run(spec.command);
  EXPECT_EQ(o.rc, 1);
  EXPECT_THAT(o.output, HasSubstr("Failed to retrieve job ID."));
  EXPECT_THAT(o.output, HasSubstr("Launcher exit code: 3"));
  EXPECT_THAT(o.output, HasSubstr("Traceback: boom"));
  EXPECT_THAT(o.output, Not(HasSubstr("Submitted batch job")));
}

TEST_F(MbridgeWrapperTest, PipFailureStopsBeforeTheLauncher) {
  set_pip_exit(5);
  set_launcher("echo 'launcher ran'\necho 'Submitted batch job 9'\n");
  RunSpec spec = prepare();
  Outcome o = run(spec.command);
  EXPECT_EQ(o.rc, 5);
  EXPECT_THAT(o.output, HasSubstr("numpy==1.26.4"));
  EXPECT_THAT(o.output, HasSubstr("fake pip"));
  EXPECT_THAT(read_file(run_dir_ / kLauncherLog), Not(HasSubstr("launcher ran")));
}

TEST_F(MbridgeWrapperTest, MissingTokenFailsClearly) {
  set_launcher("echo 'Submitted batch job 9'\n");
  RunSpec spec = prepare();
  unsetenv("HF_TOKEN");
  Outcome o = run(spec.command);
  EXPECT_EQ(o.rc, 1);
  EXPECT_THAT(o.output, HasSubstr("HF_TOKEN is not set"));
  EXPECT_THAT(o.output, Not(HasSubstr("Submitted batch job")));
}

TEST_F(MbridgeWrapperTest, SecretsNeverReachRunDirFiles) {
  // The fake launcher echoes its arguments and environment, as a verbose launcher would.
  set_launcher(
      "echo \"args: $*\"\necho \"env: $HF_TOKEN $WANDB_API_KEY\"\n"
      "echo 'Submitted batch job 21'\n");
  RunSpec spec = prepare("wandb_key = \"" + std::string(kWandbKey) + "\"\n");
  setenv("WANDB_API_KEY", kWandbKey, 1);
  Outcome o = run(spec.command);
  unsetenv("WANDB_API_KEY");
  EXPECT_EQ(o.rc, 0) << o.output;
  std::string log = read_file(run_dir_ / kLauncherLog);
  EXPECT_THAT(log, HasSubstr("-hf [hidden]"));
  EXPECT_THAT(log, HasSubstr("env: [hidden] [hidden]"));
  std::string all = all_run_files();
  EXPECT_THAT(all, Not(HasSubstr(kToken)));
  EXPECT_THAT(all, Not(HasSubstr(kWandbKey)));
}

TEST_F(MbridgeWrapperTest, LauncherWrittenScriptsAreScrubbed) {
  // NeMo-Run writes `export HF_TOKEN=...` into the sbatch script it submits under NEMORUN_HOME.
  set_launcher(
      "mkdir -p \"$NEMORUN_HOME/experiments/x\"\n"
      "printf 'export HF_TOKEN=%s\\nexport K=1\\n' \"$HF_TOKEN\" >"
      " \"$NEMORUN_HOME/experiments/x/x_sbatch.sh\"\n"
      "echo 'Submitted batch job 31'\n");
  RunSpec spec = prepare("");
  Outcome o = run(spec.command);
  EXPECT_EQ(o.rc, 0) << o.output;
  std::string script = read_file(run_dir_ / "experiments/x/x_sbatch.sh");
  EXPECT_EQ(script, "export HF_TOKEN=[hidden]\nexport K=1\n");
  EXPECT_THAT(all_run_files(), Not(HasSubstr(kToken)));
}

TEST_F(MbridgeWrapperTest, ShortTokenDoesNotMatchTheScriptsOwnText) {
  // "x" occurs in "export" and "experiments": only user-written values are checked.
  setenv("HF_TOKEN", "x", 1);
  set_launcher("exit 0\n");
  EXPECT_NO_THROW(prepare(""));
  EXPECT_TRUE(fs::exists(run_dir_ / kWrapperFile));
}

TEST_F(MbridgeWrapperTest, SecretInEnvVarsIsRefused) {
  set_launcher("exit 0\n");
  EXPECT_THROW(prepare("", "[extra_env_vars]\nMY_TOKEN = \"" + std::string(kToken) + "\"\n"),
               ConfigError);
  EXPECT_FALSE(fs::exists(run_dir_ / kWrapperFile));
}

TEST_F(MbridgeWrapperTest, ContainerRuntimeVarsExportedBeforeLauncher) {
  system_.global_env_vars = {{"NVIDIA_VISIBLE_DEVICES", "0,1"}, {"NCCL_DEBUG", "INFO"}};
  set_launcher(
      "echo \"nv=$NVIDIA_VISIBLE_DEVICES mel=$MELLANOX_VISIBLE_DEVICES nccl=$NCCL_DEBUG\"\n"
      "echo 'Job id: 5'\n");
  RunSpec spec = prepare("", "[extra_env_vars]\nMELLANOX_VISIBLE_DEVICES = \"0,3\"\n");
  std::string script = read_file(run_dir_ / kWrapperFile);
  size_t exp = script.find("export MELLANOX_VISIBLE_DEVICES=0,3\n");
  ASSERT_NE(exp, std::string::npos);
  EXPECT_LT(exp, script.find("setup_experiment.py"));
  EXPECT_THAT(script, HasSubstr("export NVIDIA_VISIBLE_DEVICES=0,1\n"));
  EXPECT_THAT(script, Not(HasSubstr("\nexport NCCL_DEBUG")));  // only via -cb
  EXPECT_THAT(script, HasSubstr("-cb 'export NCCL_DEBUG=INFO'"));
  unsetenv("NCCL_DEBUG");
  Outcome o = run(spec.command);
  EXPECT_EQ(o.rc, 0);
  EXPECT_THAT(read_file(run_dir_ / kLauncherLog), HasSubstr("nv=0,1 mel=0,3 nccl=\n"));
}

// The id must be printed while the launcher still runs (it blocks for the whole training job
// with --detach false). The fake launcher waits for a file the test creates only after reading
// the id line; it gives up after 30 s so a broken wrapper fails the test instead of hanging it.
TEST_F(MbridgeWrapperTest, JobIdPrintedWhileLauncherStillRuns) {
  fs::path release = root_ / "release";
  fs::path done = root_ / "launcher_done";
  set_launcher("echo 'Submitted batch job 777'\nfor i in $(seq 300); do\n  [ -f " +
               release.string() + " ] && break\n  sleep 0.1\ndone\ntouch " + done.string() + "\n");
  RunSpec spec = prepare();
  FILE* p = popen((spec.command + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char line[256] = {0};
  ASSERT_NE(fgets(line, sizeof line, p), nullptr);
  EXPECT_STREQ(line, "Submitted batch job 777\n");
  EXPECT_FALSE(fs::exists(done)) << "the id came only after the launcher ended";
  std::ofstream(release) << "go";
  while (fgets(line, sizeof line, p)) {
  }
  int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(fs::exists(done));
}

TEST_F(MbridgeWrapperTest, TermIsForwardedToTheLauncher) {
  fs::path pidfile = root_ / "wrapper.pid";
  set_launcher(
      "trap 'echo launcher got TERM; exit 143' TERM\necho 'Submitted batch job 31'\n"
      "for i in $(seq 300); do sleep 0.1; done\necho 'launcher timed out'\n");
  RunSpec spec = prepare();
  std::string cmd = "sh -c 'echo $$ > " + pidfile.string() + "; exec " + spec.command + "'";
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char line[512] = {0};
  ASSERT_NE(fgets(line, sizeof line, p), nullptr);
  EXPECT_STREQ(line, "Submitted batch job 31\n");
  pid_t pid = std::stoi(read_file(pidfile));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  std::string rest;
  while (fgets(line, sizeof line, p)) rest += line;
  int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 0);  // the job id was already reported
  EXPECT_THAT(rest, HasSubstr("exited with 143"));
  std::string log = read_file(run_dir_ / kLauncherLog);
  EXPECT_THAT(log, HasSubstr("launcher got TERM"));
  EXPECT_THAT(log, Not(HasSubstr("launcher timed out")));
}

// A launcher that retries submits a new job per attempt (reference §9): each id is reported
// once, in order, while the launcher still runs.
TEST_F(MbridgeWrapperTest, EveryAttemptOfARetryingLauncherIsReported) {
  set_launcher(
      "echo 'Launched app: slurm_tunnel://nemo_run/101'\necho '- Job id: 101'\n"
      "echo '[SLURM] Job 101 - State: PENDING'\n"
      "echo 'Starting attempt 2 of 3 for pretrain_x'\n"
      "echo 'Launched app: slurm_tunnel://nemo_run/102'\necho '- Job id: 102'\nexit 1\n");
  RunSpec spec = prepare();
  Outcome o = run(spec.command);
  EXPECT_EQ(o.rc, 0) << o.output;
  const std::string first = "Submitted batch job 101\n", second = "Submitted batch job 102\n";
  ASSERT_THAT(o.output, HasSubstr(first));
  ASSERT_THAT(o.output, HasSubstr(second));
  EXPECT_LT(o.output.find(first), o.output.find(second));
  EXPECT_EQ(o.output.find(first), o.output.rfind(first)) << "101 reported twice";
  EXPECT_EQ(o.output.find(second), o.output.rfind(second)) << "102 reported twice";
}

// The launcher gets its -hf/-wdk values inside its own process: its command line (what `ps`
// shows) never holds them, yet the parsed arguments do.
TEST_F(MbridgeWrapperTest, SecretsReachTheLauncherButNoCommandLine) {
  fs::path seen = root_ / "launcher_cmdline";
  set_launcher_python(
      "import sys\n"
      "cmdline = open('/proc/self/cmdline', 'rb').read().replace(b'\\0', b' ')\n"
      "open('" +
      seen.string() +
      "', 'wb').write(cmdline)\n"
      "args = sys.argv[1:]\n"
      "print('hf ok' if args[args.index('-hf') + 1] == '" +
      std::string(kToken) +
      "' else 'hf missing')\n"
      "print('wdk ok' if args[args.index('-wdk') + 1] == '" +
      std::string(kWandbKey) +
      "' else 'wdk missing')\n"
      "print('script', sys.argv[0].endswith('setup_experiment.py'), __file__ == sys.argv[0])\n"
      "print('Submitted batch job 5')\n");
  RunSpec spec = prepare("wandb_key = \"" + std::string(kWandbKey) + "\"\n");
  setenv("WANDB_API_KEY", kWandbKey, 1);
  Outcome o = run(spec.command);
  unsetenv("WANDB_API_KEY");
  EXPECT_EQ(o.rc, 0) << o.output;
  std::string log = read_file(run_dir_ / kLauncherLog);
  EXPECT_THAT(log, HasSubstr("hf ok\nwdk ok\nscript True True\n"));
  std::string cmdline = read_file(seen);
  EXPECT_THAT(cmdline, HasSubstr("setup_experiment.py"));
  EXPECT_THAT(cmdline, HasSubstr(" -m qwen3 "));
  EXPECT_THAT(cmdline, Not(HasSubstr(kToken)));
  EXPECT_THAT(cmdline, Not(HasSubstr(kWandbKey)));
  EXPECT_THAT(cmdline, Not(HasSubstr(" -hf ")));
}

// A token that is a common word (it occurs in the helper's own source) masks only what the
// launcher wrote; the wrapper and helper stay byte for byte what benchpilot generated, and the
// masked file is a new file (renamed over), so a reader of the old one is unaffected.
TEST_F(MbridgeWrapperTest, CommonWordTokenMasksOnlyLauncherFiles) {
  setenv("HF_TOKEN", "secret", 1);
  set_launcher(
      "mkdir -p \"$NEMORUN_HOME/experiments/x\"\n"
      "printf 'export HF_TOKEN=%s\\n' \"$HF_TOKEN\" > \"$NEMORUN_HOME/experiments/x/x_sbatch.sh\"\n"
      "ls -i \"$NEMORUN_HOME/experiments/x/x_sbatch.sh\" > \"$NEMORUN_HOME/inode_before\"\n"
      "echo 'the secret word'\necho 'Submitted batch job 41'\n");
  RunSpec spec = prepare();
  const std::string wrapper = read_file(run_dir_ / kWrapperFile);
  const std::string helper = read_file(run_dir_ / kHelperFile);
  ASSERT_THAT(helper, HasSubstr("secret"));
  Outcome o = run(spec.command);
  EXPECT_EQ(o.rc, 0) << o.output;
  EXPECT_EQ(read_file(run_dir_ / kWrapperFile), wrapper);
  EXPECT_EQ(read_file(run_dir_ / kHelperFile), helper);
  EXPECT_EQ(read_file(run_dir_ / "experiments/x/x_sbatch.sh"), "export HF_TOKEN=[hidden]\n");
  EXPECT_THAT(read_file(run_dir_ / kLauncherLog), HasSubstr("the [hidden] word"));
  std::string before = read_file(run_dir_ / "inode_before");
  std::string after = run("ls -i " + (run_dir_ / "experiments/x/x_sbatch.sh").string()).output;
  EXPECT_NE(before.substr(0, before.find(' ')), after.substr(0, after.find(' ')));
  for (const auto& e : fs::directory_iterator(run_dir_ / "experiments/x"))
    EXPECT_EQ(e.path().filename(), "x_sbatch.sh") << "temporary file left behind";
}

TEST_F(MbridgeWrapperTest, ShortTokenIsNeitherRefusedNorMasked) {
  // "1" is no secret: `tp = 1` and an env var "1" are fine, and step times keep their digits.
  setenv("HF_TOKEN", "1", 1);
  set_launcher("echo 'Step Time : 1.25s'\necho 'Submitted batch job 1'\n");
  RunSpec spec;
  ASSERT_NO_THROW(spec = prepare("tp = 1\n", "[extra_env_vars]\nNCCL_X = \"1\"\n"));
  Outcome o = run(spec.command);
  EXPECT_EQ(o.rc, 0) << o.output;
  EXPECT_THAT(read_file(run_dir_ / kLauncherLog), HasSubstr("Step Time : 1.25s"));
}

TEST_F(MbridgeWrapperTest, SecretRefusalNamesTheKeyWithTheToken) {
  set_launcher("exit 0\n");
  try {
    prepare("tp = 1\n",
            "[extra_env_vars]\nA = \"x\"\nMY_TOKEN = \"" + std::string(kToken) + "\"\n");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "extra_env_vars.MY_TOKEN");
    EXPECT_THAT(std::string(e.what()), Not(HasSubstr(kToken)));
  }
  // A longer value that merely contains the token is not the token.
  EXPECT_NO_THROW(prepare("", "[extra_env_vars]\nA = \"x" + std::string(kToken) + "\"\n"));
}

TEST(MbridgeWrapperScript, SecretFlagWithALiteralValueIsRefused) {
  WrapperInputs in;
  in.run_dir = "/tmp/run";
  in.python = "python3";
  in.launcher_script = "/x/setup_experiment.py";
  in.launcher_arguments = {"-g", "h100", "-hf", "hf_literal"};
  EXPECT_THROW(wrapper_script(in), ValueError);
  in.launcher_arguments = {"-g", "h100", "-hf", "\"$HF_TOKEN\""};
  std::string s = wrapper_script(in);
  EXPECT_THAT(s, HasSubstr("launch -hf=HF_TOKEN -- /x/setup_experiment.py -g h100 >"));
  EXPECT_THAT(s, HasSubstr("HF_TOKEN is not set"));
  EXPECT_THAT(s, Not(HasSubstr("WANDB_API_KEY is not set")));
}

// The wrapper is launcher_wrapper.sh filled in: a value that looks like one of its markers is
// written as it is, never filled in again.
TEST(MbridgeWrapperScript, ValuesThatLookLikeTemplateMarkersStayValues) {
  WrapperInputs in;
  in.run_dir = "/tmp/run@LOG@";
  in.python = "py@PYTHON@";
  in.launcher_script = "/x/setup_experiment.py";
  in.launcher_arguments = {"-g", "@HELPER@"};
  in.pre_launch = "\n#@PIP_STEP@\n";
  std::string s = wrapper_script(in);
  EXPECT_THAT(s, HasSubstr("\nexport NEMORUN_HOME=/tmp/run@LOG@\n"));
  EXPECT_THAT(s, HasSubstr("\nLOG=/tmp/run@LOG@/launcher.log\n"));
  EXPECT_THAT(s, HasSubstr("\nPYTHON=py@PYTHON@\n"));
  EXPECT_THAT(s, HasSubstr(" -- /x/setup_experiment.py -g @HELPER@ >\"$PIPE_DIR/out\" 2>&1 &\n"));
  EXPECT_THAT(s, HasSubstr("\n#@PIP_STEP@\n"));  // a block is not searched either
  EXPECT_THAT(s, Not(HasSubstr("#@EXPORTS@")));
  EXPECT_EQ(s.back(), '\n');
}

TEST(MbridgeWorkload, RegisteredWithSchemaAndSecrets) {
  const Workload* w = find_workload("MegatronBridge");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->info().cmd_args_fields.front(), "gpu_type");
  EXPECT_EQ(w->info().secret_fields, (std::vector<std::string>{"hf_token", "wandb_key"}));
}

TEST(MbridgeWorkload, Installables) {
  unsetenv("BENCHPILOT_LAUNCHER_PYTHON");
  System s;
  s.install_path = "/inst";
  TestDefinition t = test_with_args("container_image = \"nvcr.io#nvidia/nemo:26.02.00\"\n");
  std::vector<Installable> items = megatron_bridge_workload().installables(t, s);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].kind, Installable::Kind::kContainerImage);
  EXPECT_EQ(items[0].image, "nvcr.io#nvidia/nemo:26.02.00");
  EXPECT_EQ(items[1].kind, Installable::Kind::kPythonEnv);
  EXPECT_EQ(items[1].repo.url, "https://github.com/NVIDIA-NeMo/Run.git");
  EXPECT_EQ(items[1].repo.commit, "main");
  EXPECT_EQ(items[1].python, "");
  EXPECT_EQ(installed_path(items[1], s), fs::path("/inst/Run__main-venv"));
  EXPECT_EQ(items[2].kind, Installable::Kind::kGitRepo);
  EXPECT_EQ(installed_path(items[2], s), fs::path("/inst/Megatron-Bridge__v0.3.0"));

  items = megatron_bridge_workload().installables(test_with_args(""), s);
  ASSERT_EQ(items.size(), 2u);  // no image without container_image

  // CloudAI's nemo_run_repo replaces NeMo-Run at main.
  TestDefinition pinned = test_with_args("");
  pinned.nemo_run_repo = GitRepo{"https://example.com/Run.git", "v0.10.0", false, "", {}};
  items = megatron_bridge_workload().installables(pinned, s);
  EXPECT_EQ(items[0].repo.commit, "v0.10.0");
  EXPECT_EQ(installed_path(items[0], s), fs::path("/inst/Run__v0.10.0-venv"));
  setenv("BENCHPILOT_LAUNCHER_PYTHON", "/usr/bin/python3", 1);
  EXPECT_EQ(megatron_bridge_workload().installables(test_with_args(""), s)[0].python,
            "/usr/bin/python3");
  s.workload_settings["launcher_python"] = "/opt/py/bin/python";  // the system's setting wins
  EXPECT_EQ(megatron_bridge_workload().installables(test_with_args(""), s)[0].python,
            "/opt/py/bin/python");
  unsetenv("BENCHPILOT_LAUNCHER_PYTHON");
}

}  // namespace
}  // namespace bp::mbridge
