#include "workloads/megatron_bridge/launcher_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "testkit/testkit.h"
#include "util/error.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/mbridge_test_helpers.h"

namespace bp::mbridge {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::test_from_toml;
using testing::test_with_args;

System slurm_system() {
  System s;
  s.name = "cluster";
  s.scheduler = "slurm";
  s.install_path = "/inst";
  s.output_path = "/out";
  s.default_partition = "main";
  s.gpus_per_node = 8;
  return s;
}

LauncherInputs inputs() {
  LauncherInputs in;
  in.run_dir = "/out/run";
  in.python = "/inst/Run__main-venv/bin/python";
  in.mbridge_dir = "/inst/Megatron-Bridge__main";
  return in;
}

TestRun run_of(TestDefinition t) {
  TestRun r;
  r.id = "case";
  r.test = std::move(t);
  return r;
}

// The launcher arguments joined with spaces, with a leading and trailing space so that
// " -ms " style searches match whole words.
std::string args_text(const TestRun& r, const System& s = slurm_system(),
                      const LauncherInputs& in = inputs()) {
  return " " + join(launcher_arguments(r, s, in), " ") + " ";
}

std::string args_text(std::string_view cmd_args_lines, std::string_view extra_toml = "") {
  return args_text(run_of(test_with_args(cmd_args_lines, extra_toml)));
}

// Position of a word in the argument list, or npos.
size_t index_of(const std::vector<std::string>& words, std::string_view w) {
  auto it = std::find(words.begin(), words.end(), w);
  return it == words.end() ? std::string::npos : static_cast<size_t>(it - words.begin());
}

// CloudAI's ref_data/megatron-bridge.sbatch line, for a test referenced by test_name from a
// scenario (every default in fields_set): benchpilot sends this for any test.
TEST(MbridgeLauncher, MatchesCloudaiTestNameLine) {
  testkit::TempDir dir;
  fs::path image = testkit::write_file(dir / "megatron_bridge_image.sqsh", "x");

  TestDefinition t = test_from_toml(
      "name = \"mb\"\n"
      "[[git_repos]]\n"
      "url = \"https://github.com/NVIDIA-NeMo/Megatron-Bridge.git\"\n"
      "commit = \"main\"\n"
      "mount_as = \"/opt/Megatron-Bridge\"\n"
      "[cmd_args]\n"
      "container_image = \"" +
      image.string() +
      "\"\n"
      "num_gpus = 8\n"
      "model_family_name = \"qwen3\"\n"
      "model_recipe_name = \"30b_a3b\"\n"
      "[extra_env_vars]\n"
      "NCCL_DEBUG = \"INFO\"\n"
      "CUDA_VISIBLE_DEVICES = \"0,1,2,3\"\n");
  TestRun r = run_of(t);
  r.time_limit = "00:20:00";
  std::string expected =
      "NEMORUN_HOME=/out/run /inst/Run__main-venv/bin/python "
      "/inst/Megatron-Bridge__main/scripts/performance/setup_experiment.py -p main -g gb200 "
      "-t 00:20:00 -i " +
      image.string() +
      " -c bf16 --task pretrain -hf \"$HF_TOKEN\" --max_retries 1 -ng 8 -gn 8 "
      "-cm /inst/Megatron-Bridge__main:/opt/Megatron-Bridge "
      "-cb 'export CUDA_VISIBLE_DEVICES=0,1,2,3' -cb 'export NCCL_DEBUG=INFO' -vb false -m qwen3 "
      "-mr 30b_a3b --moe_a2a_overlap false -ms 10 "
      "--detach false --save_config_filepath /nemo_run/configs/ConfigContainer.yaml "
      "--additional_slurm_params 'gpus-per-node=8;gres=gpu:8' "
      "logger.tensorboard_dir=/nemo_run/tb_logs logger.log_timers_to_tensorboard=true "
      "logger.log_throughput_to_tensorboard=true logger.log_memory_to_tensorboard=true";
  EXPECT_EQ(launcher_command(r, slurm_system(), inputs()), expected);
}

TEST(MbridgeLauncher, UnwrittenFieldsGetCloudaiDefaults) {
  std::string text = args_text("");
  // The launcher requires -g; its defaults differ for -ms (50 steps), --max_retries (2) and
  // --moe_a2a_overlap (the recipe's); -c, --task and -vb match CloudAI's test_name command.
  for (const char* flag : {" -g gb200 ", " -c bf16 --task pretrain ", " --max_retries 1 ",
                           " -vb false ", " --moe_a2a_overlap false -ms 10 "})
    EXPECT_THAT(text, HasSubstr(flag)) << flag;
  // Fields whose CloudAI default is None (or an empty string / false bare flag) stay unset.
  for (const char* flag : {" --use_tokendrop ", " --use_megatron_fsdp ", " --cuda_graph_impl ",
                           " --offline ", " -d ", " -en ", " -i ", " -l ", " -a ", " -t ", " -cm ",
                           " -cb ", " --use_recipes ", " -wdk ", " -vp ", " --domain "})
    EXPECT_THAT(text, Not(HasSubstr(flag))) << flag;
}

TEST(MbridgeLauncher, ForcedFieldsAlwaysPresent) {
  std::string text = args_text("");
  EXPECT_THAT(text, HasSubstr(" -hf \"$HF_TOKEN\" --max_retries 1 -ng 8 -gn 8 "));
  EXPECT_THAT(text, HasSubstr(" -m qwen3 -mr 30b_a3b "));
  EXPECT_THAT(text, HasSubstr(" --detach false "));
  EXPECT_THAT(text, HasSubstr(" --save_config_filepath /nemo_run/configs/ConfigContainer.yaml "));
  text = args_text("num_gpus = 16\nsave_config_filepath = \"/nemo_run/c.yaml\"\n");
  EXPECT_THAT(text, HasSubstr(" -ng 16 "));
  EXPECT_THAT(text, HasSubstr(" --save_config_filepath /nemo_run/c.yaml "));
}

TEST(MbridgeLauncher, SetDefaultsAreEmitted) {
  std::string text = args_text(
      "gpu_type = \"gb200\"\ncompute_dtype = \"bf16\"\ntask = \"pretrain\"\nmax_steps = 10\n"
      "max_retries = 1\nenable_vboost = false\n");
  EXPECT_THAT(text, HasSubstr(" -g gb200 "));
  EXPECT_THAT(text, HasSubstr(" -c bf16 --task pretrain -hf "));
  EXPECT_THAT(text, HasSubstr(" --max_retries 1 "));
  EXPECT_THAT(text, HasSubstr(" -vb false "));
  EXPECT_THAT(text, HasSubstr(" -ms 10 "));
}

TEST(MbridgeLauncher, FollowsTheFlagTableOrder) {
  TestDefinition t = test_with_args(
      "gpu_type = \"h100\"\nlog_dir = \"/logs\"\ncontainer_image = \"nvcr.io#nvidia/nemo:26.02\"\n"
      "compute_dtype = \"fp8_cs\"\ntask = \"pretrain\"\nnemo_home = \"/nh\"\n"
      "wandb_key = \"wk\"\nwandb_project_name = \"p\"\nwandb_entity_name = \"e\"\n"
      "wandb_experiment_name = \"x\"\nwandb_save_dir = \"/w\"\nmax_retries = 2\ndryrun = true\n"
      "num_gpus = 16\ndomain = \"llm\"\nuse_recipes = true\nenable_vboost = true\n"
      "hidden_size = 1024\nnum_layers = 4\npipeline_model_parallel_layout = \"Et|tL\"\n"
      "first_k_dense_replace = 1\nenable_nsys = true\nuse_tokendrop = true\n"
      "use_megatron_fsdp = false\nnccl_ub = true\ncuda_graph_impl = \"local\"\n"
      "cuda_graph_scope = \"full_iteration\"\ntp = 2\npp = 2\ncp = 1\nvp = 2\nep = 4\net = 1\n"
      "mb = 1\ngb = 128\nseq_length = 4096\nmoe_a2a_overlap = false\nmax_steps = 30\n"
      "recompute_num_layers = 2\nactivation_offload_layers = 1\nrecompute_modules = \"mlp\"\n"
      "lr = 0.0001\nmin_lr = 1e-5\nwarmup_iters = 5\npretrained_checkpoint = \"/ck\"\n"
      "save_dir = \"/s\"\nload_dir = \"/l\"\nsave_interval = 10\nmost_recent_k = 2\n"
      "data = \"rp2\"\ndataset_paths = [\"/d1\", \"/d2\"]\ndataset_root = \"/dr\"\n"
      "index_mapping_dir = \"/im\"\ndataset_name = \"dn\"\npacked_sequence = true\n"
      "head_only = true\ntokenizer_type = \"NullTokenizer\"\ntokenizer_model = \"/tm\"\n"
      "vocab_size = 32000\npytorch_profiler = true\nprofiling_start_step = 3\n"
      "profiling_stop_step = 4\nrecord_memory_history = false\nprofiling_gpu_metrics = true\n"
      "profiling_ranks = [0, 1]\nnsys_trace = \"cuda,nvtx\"\nnsys_extra_args = \"--x\"\n"
      "config_variant = \"v1\"\nlist_config_variants = true\nfp8_recipe = \"ignored\"\n"
      "num_distributed_optimizer_instances = 2\n",
      "extra_container_mounts = [\"/a:/a\"]\n[extra_env_vars]\nK = \"V\"\n");
  TestRun r = run_of(t);
  r.time_limit = "01:00:00";
  System s = slurm_system();
  s.account = "acct";
  std::vector<std::string> words = launcher_arguments(r, s, inputs());
  const std::vector<std::string> order = {"-a",
                                          "-p",
                                          "-g",
                                          "-l",
                                          "-t",
                                          "-i",
                                          "-c",
                                          "--task",
                                          "-hf",
                                          "-nh",
                                          "-wdk",
                                          "-wdp",
                                          "-wde",
                                          "-wdj",
                                          "-wds",
                                          "--max_retries",
                                          "-d",
                                          "-ng",
                                          "-gn",
                                          "-cm",
                                          "--domain",
                                          "--use_recipes",
                                          "-vb",
                                          "-m",
                                          "-mr",
                                          "--hidden_size",
                                          "--num_layers",
                                          "--pipeline_model_parallel_layout",
                                          "--first_k_dense_replace",
                                          "-en",
                                          "--use_tokendrop",
                                          "--use_megatron_fsdp",
                                          "--nccl_ub",
                                          "--cuda_graph_impl",
                                          "--cuda_graph_scope",
                                          "-tp",
                                          "-pp",
                                          "-cp",
                                          "-vp",
                                          "-ep",
                                          "-et",
                                          "-mb",
                                          "-gb",
                                          "-sl",
                                          "--moe_a2a_overlap",
                                          "-ms",
                                          "-rl",
                                          "-ol",
                                          "--recompute_modules",
                                          "--detach",
                                          "--lr",
                                          "--min_lr",
                                          "--warmup_iters",
                                          "--pretrained_checkpoint",
                                          "--save_dir",
                                          "--load_dir",
                                          "--save_interval",
                                          "--most_recent_k",
                                          "--save_config_filepath",
                                          "--data",
                                          "--dataset_paths",
                                          "--dataset_root",
                                          "--index_mapping_dir",
                                          "--dataset_name",
                                          "--packed_sequence",
                                          "--head_only",
                                          "--tokenizer_type",
                                          "--tokenizer_model",
                                          "--vocab_size",
                                          "-pyp",
                                          "--profiling_start_step",
                                          "--profiling_stop_step",
                                          "-mh",
                                          "--profiling_gpu_metrics",
                                          "--profiling_ranks",
                                          "--nsys_trace",
                                          "--nsys_extra_args",
                                          "--additional_slurm_params",
                                          "-cv",
                                          "--list_config_variants",
                                          "logger.tensorboard_dir=/nemo_run/tb_logs"};
  size_t last = 0;
  for (const std::string& flag : order) {
    size_t i = index_of(words, flag);
    ASSERT_NE(i, std::string::npos) << flag << " missing";
    EXPECT_GE(i, last) << flag << " out of order";
    last = i;
  }
  std::string text = " " + join(words, " ") + " ";
  EXPECT_THAT(text, HasSubstr(" --lr 0.0001 --min_lr 1e-05 "));
  EXPECT_THAT(text, HasSubstr(" --pipeline_model_parallel_layout 'Et|tL' "));
  EXPECT_THAT(text, HasSubstr(" -i nvcr.io#nvidia/nemo:26.02 "));
  EXPECT_THAT(text, Not(HasSubstr("ignored")));
  EXPECT_THAT(text, Not(HasSubstr("wk")));
}

TEST(MbridgeLauncher, VirtualPipelineOfOneBecomesNone) {
  EXPECT_THAT(args_text("vp = 1\n"), HasSubstr(" -vp None "));
  EXPECT_THAT(args_text("vp = [1]\n"), HasSubstr(" -vp None "));
  EXPECT_THAT(args_text("vp = 2\n"), HasSubstr(" -vp 2 "));
}

// What CloudAI's model holds once pydantic has read it reaches the launcher: tp = "2" is 2.
TEST(MbridgeLauncher, IntegerFieldsReachTheLauncherAsIntegers) {
  EXPECT_THAT(args_text("tp = \"2\"\n"), HasSubstr(" -tp 2 "));
  EXPECT_THAT(args_text("tp = \" +2 \"\n"), HasSubstr(" -tp 2 "));
  EXPECT_THAT(args_text("mb = 2.0\n"), HasSubstr(" -mb 2 "));
  EXPECT_THAT(args_text("tp = [\"1\", 2.0]\n"), HasSubstr(" -tp 1,2 "));
  EXPECT_THAT(args_text("vp = \"1\"\n"), HasSubstr(" -vp None "));
  EXPECT_THAT(args_text("profiling_ranks = [\"0\", 1.0]\n"), HasSubstr(" --profiling_ranks 0,1 "));
  EXPECT_THAT(args_text("profiling_ranks = \"0, 1\"\n"), HasSubstr(" --profiling_ranks '0, 1' "));
}

TEST(MbridgeLauncher, BooleansAndBareFlags) {
  std::string text = args_text(
      "enable_vboost = true\nuse_tokendrop = false\nnccl_ub = true\npytorch_profiler = false\n"
      "record_memory_history = true\nmoe_a2a_overlap = false\n");
  EXPECT_THAT(text, HasSubstr(" -vb true "));
  EXPECT_THAT(text, HasSubstr(" --use_tokendrop false "));
  EXPECT_THAT(text, HasSubstr(" --nccl_ub true "));
  EXPECT_THAT(text, HasSubstr(" -pyp false "));
  EXPECT_THAT(text, HasSubstr(" -mh true "));
  EXPECT_THAT(text, HasSubstr(" --moe_a2a_overlap false "));

  text = args_text(
      "dryrun = true\nuse_recipes = true\nenable_nsys = true\npacked_sequence = true\n"
      "head_only = true\nprofiling_gpu_metrics = true\nlist_config_variants = true\n");
  for (const char* flag :
       {" -d ", " --use_recipes ", " -en ", " --packed_sequence ", " --head_only ",
        " --profiling_gpu_metrics ", " --list_config_variants "})
    EXPECT_THAT(text, HasSubstr(flag)) << flag;
  EXPECT_THAT(text, Not(HasSubstr(" true ")));

  text = args_text(
      "dryrun = false\nuse_recipes = false\nenable_nsys = false\npacked_sequence = false\n"
      "head_only = false\nprofiling_gpu_metrics = false\nlist_config_variants = false\n");
  for (const char* flag :
       {" -d ", " --use_recipes ", " -en ", " --packed_sequence ", " --head_only ",
        " --profiling_gpu_metrics ", " --list_config_variants "})
    EXPECT_THAT(text, Not(HasSubstr(flag))) << flag;
}

TEST(MbridgeLauncher, ListFormatting) {
  EXPECT_THAT(args_text("profiling_ranks = [0, 1, 2, 3]\n"),
              HasSubstr(" --profiling_ranks 0,1,2,3 "));
  EXPECT_THAT(args_text("profiling_ranks = \"0,1\"\n"), HasSubstr(" --profiling_ranks 0,1 "));
  EXPECT_THAT(args_text("profiling_ranks = 2\n"), HasSubstr(" --profiling_ranks 2 "));
  EXPECT_THAT(args_text("dataset_paths = [\"/d/a\", \"/d/b\"]\n"),
              HasSubstr(" --dataset_paths /d/a /d/b "));
  EXPECT_THAT(args_text("dataset_paths = \"/d/a\"\n"), HasSubstr(" --dataset_paths /d/a "));
  // A list left unexpanded is comma-joined, as CloudAI does.
  EXPECT_THAT(args_text("tp = [1, 2]\n"), HasSubstr(" -tp 1,2 "));
}

TEST(MbridgeLauncher, CudaGraphScopeIsCleanedUp) {
  EXPECT_THAT(args_text("cuda_graph_scope = \"[moe_router,moe_preprocess]\"\n"),
              HasSubstr(" --cuda_graph_scope moe_router,moe_preprocess "));
  EXPECT_THAT(args_text("cuda_graph_scope = \"['attn', \\\"mlp\\\"]\"\n"),
              HasSubstr(" --cuda_graph_scope attn,mlp "));
  EXPECT_THAT(args_text("cuda_graph_scope = \"\"\n"), Not(HasSubstr("--cuda_graph_scope")));
}

TEST(MbridgeLauncher, RecomputeModulesAreNormalisedAndDoubleQuoted) {
  EXPECT_THAT(args_text("recompute_modules = \"core_attn,mlp\"\n"),
              HasSubstr(" --recompute_modules \"core_attn,mlp\" "));
  EXPECT_THAT(args_text("recompute_modules = [\"core_attn\", \"mlp\"]\n"),
              HasSubstr(" --recompute_modules \"core_attn,mlp\" "));
  // As CloudAI's _normalize_recompute_modules: brackets, quotes and spaces go, so the
  // launcher's split on "," gives Megatron the module names themselves.
  EXPECT_THAT(args_text("recompute_modules = \"[layernorm, mlp]\"\n"),
              HasSubstr(" --recompute_modules \"layernorm,mlp\" "));
  EXPECT_THAT(args_text("recompute_modules = \"core_attn, layernorm\"\n"),
              HasSubstr(" --recompute_modules \"core_attn,layernorm\" "));
  EXPECT_THAT(args_text("recompute_modules = \"['moe_act', \\\"mlp\\\"]\"\n"),
              HasSubstr(" --recompute_modules \"moe_act,mlp\" "));
  // Something the shell would expand inside double quotes is single-quoted instead.
  EXPECT_THAT(args_text("recompute_modules = \"mlp,$(id)\"\n"),
              HasSubstr(" --recompute_modules 'mlp,$(id)' "));
}

TEST(MbridgeLauncher, OfflineReplacesTheToken) {
  std::string text = args_text("offline = true\n");
  EXPECT_THAT(text, HasSubstr(" -c bf16 --task pretrain --offline --max_retries 1 "));
  EXPECT_THAT(text, Not(HasSubstr(" -hf ")));
  EXPECT_THAT(args_text("offline = false\n"), HasSubstr(" -hf \"$HF_TOKEN\" "));
}

TEST(MbridgeLauncher, ContainerMounts) {
  TestDefinition with_mount = test_from_toml(
      "name = \"mb\"\nextra_container_mounts = [\"/data:/data\"]\n"
      "[[git_repos]]\nurl = \"https://github.com/NVIDIA-NeMo/Megatron-Bridge.git\"\n"
      "commit = \"main\"\nmount_as = \"/opt/Megatron-Bridge\"\n"
      "[cmd_args]\nmodel_family_name = \"q\"\nmodel_recipe_name = \"r\"\n");
  EXPECT_THAT(args_text(run_of(with_mount)),
              HasSubstr(" -cm /data:/data,/inst/Megatron-Bridge__main:/opt/Megatron-Bridge "));
  EXPECT_THAT(args_text(""), Not(HasSubstr(" -cm ")));
}

TEST(MbridgeLauncher, EnvVarsAreSortedOverlaidAndQuoted) {
  System s = slurm_system();
  s.global_env_vars = {{"ZZ", "1"}, {"NCCL_DEBUG", "WARN"}, {"A_VAR", "x y"}};
  TestDefinition t = test_with_args("", "[extra_env_vars]\nNCCL_DEBUG = \"INFO\"\nB = \"it's\"\n");
  std::string text = args_text(run_of(t), s);
  EXPECT_THAT(text, HasSubstr(" -cb 'export A_VAR=x y' -cb 'export B=it'\"'\"'s' "
                              "-cb 'export NCCL_DEBUG=INFO' -cb 'export ZZ=1' "));
  EXPECT_THAT(text, Not(HasSubstr("--custom_env_vars")));
  EXPECT_THAT(text, Not(HasSubstr("WARN")));
  EnvVars env = final_env_vars(t, s);
  ASSERT_EQ(env.size(), 4u);
  EXPECT_EQ(env[2], (std::pair<std::string, std::string>{"NCCL_DEBUG", "INFO"}));
}

TEST(MbridgeLauncher, SrunArgsBecomeSlurmParams) {
  EXPECT_THAT(srun_args_as_slurm_params("--exclusive --reservation my_reserv --overcommit"),
              ElementsAre("exclusive", "reservation=my_reserv", "overcommit"));
  EXPECT_THAT(srun_args_as_slurm_params("--reservation my_reserv --constraint=gpu"),
              ElementsAre("reservation=my_reserv", "constraint=gpu"));
  EXPECT_THAT(srun_args_as_slurm_params(""), ElementsAre());
}

// CloudAI drops words that are neither a --option nor its value: "--exclusive $(touch /tmp/x)"
// would become "exclusive=$(touch". benchpilot refuses, naming the word.
std::string dropped_word_error(std::string_view srun_args) {
  try {
    srun_args_as_slurm_params(srun_args);
  } catch (const ValueError& e) {
    return e.what();
  }
  return "";
}

TEST(MbridgeLauncher, SrunArgsThatLoseAWordAreRefused) {
  EXPECT_THAT(dropped_word_error("--exclusive $(touch /tmp/x)"), HasSubstr("'/tmp/x)'"));
  EXPECT_THAT(dropped_word_error("-N 2 --mem=0"), HasSubstr("the word -N is neither"));
  EXPECT_THAT(dropped_word_error("--reservation r stray"), HasSubstr("the word stray"));
  EXPECT_EQ(dropped_word_error("--comment='$(touch /tmp/x)'"), "");  // one word, kept whole
}

TEST(MbridgeLauncher, SrunArgsThatLoseAWordAreRefusedNamingTheKey) {
  System s;
  s.loc = SourceLoc{"system.toml", 0};
  TestRun r;
  r.id = "m1";
  r.loc = SourceLoc{"scenario.toml", 4};
  s.extra_srun_args = "--exclusive $(touch x)";
  try {
    check_system_srun_args(s);
    FAIL() << "accepted system srun options that lose a word";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("system.toml: extra_srun_args: the word 'x)'"));
  }
  s.extra_srun_args.clear();
  r.extra_srun_args = "--segment 2 stray";
  try {
    additional_slurm_params(r, s, LauncherInputs{});
    FAIL() << "accepted a case whose srun options lose a word";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("scenario.toml:4: Tests.m1.extra_srun_args: the word stray"));
  }
}

TEST(MbridgeLauncher, AdditionalSlurmParams) {
  TestRun r = run_of(test_with_args(""));
  System s = slurm_system();
  LauncherInputs in = inputs();

  s.gpus_per_node = 4;
  EXPECT_THAT(args_text(r, s, in), HasSubstr(" -gn 4 "));
  EXPECT_THAT(args_text(r, s, in),
              HasSubstr(" --additional_slurm_params 'gpus-per-node=4;gres=gpu:4' "));

  in.gpu_directives_supported = false;  // -gn stays: it is a launcher flag
  EXPECT_THAT(args_text(r, s, in), HasSubstr(" -gn 4 "));
  EXPECT_THAT(args_text(r, s, in), Not(HasSubstr("--additional_slurm_params")));

  s.gpus_per_node.reset();
  in.gpu_directives_supported = true;
  EXPECT_THAT(args_text(r, s, in), Not(HasSubstr(" -gn ")));
  EXPECT_THAT(args_text(r, s, in), Not(HasSubstr("--additional_slurm_params")));

  r.exclude_nodes = {"n3", "n4"};
  EXPECT_THAT(additional_slurm_params(r, s, in), ElementsAre("exclude=n3,n4"));
  in.resolved_nodes = {"n1", "n2"};
  EXPECT_THAT(additional_slurm_params(r, s, in), ElementsAre("nodelist=n1,n2"));

  s.gpus_per_node = 8;
  s.extra_srun_args = "--exclusive --reservation my_reserv --overcommit";
  r.extra_srun_args = "--reservation my_reserv --constraint=gpu";
  EXPECT_THAT(additional_slurm_params(r, s, in),
              ElementsAre("gpus-per-node=8", "gres=gpu:8", "nodelist=n1,n2", "exclusive",
                          "reservation=my_reserv", "overcommit", "reservation=my_reserv",
                          "constraint=gpu"));
  EXPECT_THAT(args_text(r, s, in),
              HasSubstr(" --additional_slurm_params 'gpus-per-node=8;gres=gpu:8;nodelist=n1,n2;"
                        "exclusive;reservation=my_reserv;overcommit;reservation=my_reserv;"
                        "constraint=gpu' "));
}

// Run mode: the campaign's comment reaches the launcher's job, so a resume finds a job whose id
// was never recorded; a comment set by the user (extra_srun_args) still wins, coming later.
TEST(MbridgeLauncher, CampaignCommentGoesFirstIntoAdditionalSlurmParams) {
  TestRun r = run_of(test_with_args(""));
  System s = slurm_system();
  LauncherInputs in = inputs();
  in.job_comment = "benchpilot:sc_2026-11-26_16-00-00.0a1b2c3d:case/0/2";
  EXPECT_THAT(additional_slurm_params(r, s, in),
              ElementsAre("comment=benchpilot:sc_2026-11-26_16-00-00.0a1b2c3d:case/0/2",
                          "gpus-per-node=8", "gres=gpu:8"));
  EXPECT_THAT(args_text(r, s, in),
              HasSubstr(" --additional_slurm_params 'comment=benchpilot:sc_2026-11-26_16-00-00."
                        "0a1b2c3d:case/0/2;gpus-per-node=8;gres=gpu:8' "));
  s.gpus_per_node.reset();  // the only parameter: still one item (no ';' and no blank in it)
  EXPECT_THAT(args_text(r, s, in),
              HasSubstr(" --additional_slurm_params comment=benchpilot:sc_2026-11-26_16-00-00."
                        "0a1b2c3d:case/0/2 "));
  r.extra_srun_args = "--comment=mine";
  EXPECT_EQ(additional_slurm_params(r, s, in).back(), "comment=mine");
  // After the pre-test gate the chained items follow the comment.
  r.extra_srun_args.clear();
  in.after_pre_hook = true;
  EXPECT_THAT(args_text(r, s, in),
              HasSubstr(" --additional_slurm_params 'comment=benchpilot:sc_2026-11-26_16-00-00."
                        "0a1b2c3d:case/0/2;'\"dependency=afterok:${PRE_HOOK_JOB_ID};"));
  // A comment the launcher would split (or NeMo-Run would have to quote) is left out: the job is
  // then found by its working directory and log path.
  in.after_pre_hook = false;
  for (const char* bad : {"a b", "a;b", "a'b", "a$b", ""}) {
    in.job_comment = bad;
    EXPECT_THAT(args_text(r, s, in), Not(HasSubstr("comment="))) << bad;
  }
}

TEST(MbridgeLauncher, HydraDefaultsThenOverrides) {
  std::string text = args_text("");
  EXPECT_THAT(text, HasSubstr(" logger.tensorboard_dir=/nemo_run/tb_logs "
                              "logger.log_timers_to_tensorboard=true "
                              "logger.log_throughput_to_tensorboard=true "
                              "logger.log_memory_to_tensorboard=true "));
  TestDefinition t =
      test_with_args("",
                     "[extra_cmd_args]\n\"logger.tensorboard_dir\" = \"/custom/tb\"\n"
                     "\"profiling.profile_ranks\" = \"[0]\"\n\"train.flag\" = \"\"\n");
  EXPECT_THAT(hydra_overrides(t), ElementsAre("logger.tensorboard_dir=/custom/tb",
                                              "logger.log_timers_to_tensorboard=true",
                                              "logger.log_throughput_to_tensorboard=true",
                                              "logger.log_memory_to_tensorboard=true",
                                              "profiling.profile_ranks=[0]", "train.flag"));
  text = args_text(run_of(t));
  EXPECT_THAT(text,
              HasSubstr(" logger.tensorboard_dir=/custom/tb logger.log_timers_to_tensorboard"));
  EXPECT_THAT(text, HasSubstr(" 'profiling.profile_ranks=[0]' train.flag "));
  EXPECT_THAT(text, Not(HasSubstr("/nemo_run/tb_logs")));
}

TEST(MbridgeLauncher, ContainerImagePaths) {
  testkit::TempDir dir;
  testkit::write_file(dir / "img.sqsh", "x");
  fs::path old = fs::current_path();
  fs::current_path(dir);
  // A relative local image is passed as its absolute path.
  EXPECT_THAT(args_text("container_image = \"./img.sqsh\"\n"),
              HasSubstr(" -i " + (dir / "img.sqsh").string() + " "));
  fs::current_path(old);

  TestRun r = run_of(test_with_args("container_image = \"nvcr.io#nvidia/nemo:26.02.00\"\n"));
  System s = slurm_system();
  EXPECT_THAT(args_text(r, s), HasSubstr(" -i nvcr.io#nvidia/nemo:26.02.00 "));
  s.cache_docker_images_locally = true;
  EXPECT_THAT(args_text(r, s), HasSubstr(" -i /inst/nvcr.io_nvidia__nemo__26.02.00.sqsh "));
}

TEST(MbridgeLauncher, AccountAndTimeLimit) {
  TestRun r = run_of(test_with_args(""));
  System s = slurm_system();
  s.account = "acct";
  r.time_limit = "2-00:00:00";
  EXPECT_THAT(args_text(r, s),
              HasSubstr(" -a acct -p main -g gb200 -t 2-00:00:00 -c bf16 --task pretrain -hf "));
}

TEST(MbridgeLauncher, SecretsAreReferencedNeverWritten) {
  std::string text = args_text("hf_token = \"hf_secret_value\"\nwandb_key = \"wandb_secret\"\n");
  EXPECT_THAT(text, HasSubstr(" -hf \"$HF_TOKEN\" "));
  EXPECT_THAT(text, HasSubstr(" -wdk \"$WANDB_API_KEY\" "));
  EXPECT_THAT(text, Not(HasSubstr("secret")));
  EXPECT_THAT(args_text("wandb_key = \"\"\n"), Not(HasSubstr("-wdk")));
}

TEST(MbridgeLauncher, NsysListsAreRejected) {
  for (const char* args :
       {"nsys_trace = [\"cuda\", \"nvtx\"]\n", "nsys_extra_args = [\"--a\"]\n"}) {
    try {
      launcher_arguments(run_of(test_with_args(args)), slurm_system(), inputs());
      FAIL() << "expected a ConfigError for " << args;
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr("test.toml:10: cmd_args.nsys_"));
    }
  }
  EXPECT_THAT(args_text("nsys_trace = \"cuda,nvtx\"\n"), HasSubstr(" --nsys_trace cuda,nvtx "));
}

TEST(MbridgeLauncher, BlankModelNameIsAnError) {
  TestDefinition t = test_with_args("");
  t.cmd_args.set("model_recipe_name", Value::string(" "));
  EXPECT_THROW(launcher_arguments(run_of(t), slurm_system(), inputs()), ConfigError);
}

TEST(MbridgeLauncher, CommandStartsWithNemorunHomeAndScript) {
  std::string cmd = launcher_command(run_of(test_with_args("")), slurm_system(), inputs());
  EXPECT_EQ(
      cmd.rfind("NEMORUN_HOME=/out/run /inst/Run__main-venv/bin/python "
                "/inst/Megatron-Bridge__main/scripts/performance/setup_experiment.py -p main ",
                0),
      0u);
}

}  // namespace
}  // namespace bp::mbridge
