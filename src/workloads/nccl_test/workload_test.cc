#include "workloads/nccl_test/workload.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "config/toml_reader.h"
#include "loaders/load_test.h"
#include "testkit/testkit.h"
#include "util/strings.h"
#include "workloads/nccl_test/args.h"

namespace bp::nccl {
namespace {

namespace fs = std::filesystem;

TestDefinition nccl_test(std::string_view cmd_args, std::string_view rest = "") {
  std::string text = "name = \"nccl\"\ndescription = \"d\"\ntest_template_name = \"NcclTest\"\n" +
                     std::string(rest) + "\n[cmd_args]\n" + std::string(cmd_args) + "\n";
  return parse_test_table(read_toml_string(text, "nccl.toml"));
}

std::string error_of(std::string_view cmd_args) {
  try {
    nccl_test(cmd_args);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

class NcclDir : public ::testing::Test {
 protected:
  void write_output(const std::string& text) { testkit::write_file(dir_ / kOutputFile, text); }
  testkit::TempDir dir_;
};

const char* kGood =
    "# Collective test starting: alltoall_perf\n"
    "#  Rank  0 Group  0 Pid  55120 on      node1 device  0 [0000:18:00] NVIDIA H100 80GB HBM3\n"
    "#       size         count      type   redop    root     time   algbw   busbw  #wrong     "
    "time   algbw   busbw  #wrong \n"
    "     1048576         32768     float    none      -1    20.00   52.43   45.88       0    "
    "30.00   34.95   30.58       0\n"
    "     2097152         65536     float    none      -1    40.00   52.43   45.88       0    "
    "50.00   41.94   60.50       0\n"
    "# Out of bounds values : 0 OK\n"
    "# Avg bus bandwidth    : 45.71 \n#\n";

TEST(NcclArgs, DefaultsGiveCloudAisCommandLine) {
  EXPECT_EQ(test_command(nccl_test("docker_image_url = \"nvcr.io#nvidia/pytorch:24.02-py3\"")),
            "all_reduce_perf_mpi --nthreads 1 --ngpus 1 --minbytes 32M --maxbytes 32M "
            "--stepbytes 1M --op sum --datatype float --root 0 --iters 20 --warmup_iters 5 "
            "--agg_iters 1 --average 1 --parallel_init 0 --check 1 --blocking 0 --cudagraph 0");
}

TEST(NcclArgs, SingleProcessExtraKeysAndExtraCmdArgs) {
  TestDefinition t = nccl_test(
      "subtest_name = \"alltoall_perf\"\nngpus = 8\nmaxbytes = \"4G\"\nstepfactor = 2\nR = 1\n"
      "min_busbw = 100.0\nblocking = \"1\"",
      "[extra_cmd_args]\n\"--run_cycles\" = \"2\"");
  std::string cmd = test_command(t);
  EXPECT_TRUE(cmd.starts_with("alltoall_perf --nthreads 1 -g 8 --minbytes 32M --maxbytes 4G"))
      << cmd;
  EXPECT_NE(cmd.find("--blocking 1"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("--cudagraph 0 --stepfactor 2 -R 1 --run_cycles 2"), std::string::npos) << cmd;
  EXPECT_EQ(cmd.find("min_busbw"), std::string::npos) << cmd;
  EXPECT_TRUE(is_single_process(subtest_name(t)));
  EXPECT_EQ(min_busbw(t), 100.0);
}

TEST(NcclArgs, AlltoallvRunsCloudAisProgramWithShortFlagsFirst) {
  // As CloudAI's NcclTestSlurmCommandGenStrategy: the container's alltoallv_perf, -b -e -g -w -n,
  // then every other program field as --name value, bools bare when true, extra keys, extras.
  TestDefinition boxed = nccl_test(
      "docker_image_url = \"nvcr.io#nvidia/pytorch:24.02-py3\"\nsubtest_name = "
      "\"alltoallv_perf_mpi\"\nngpus = 8\niters = 50\nmin_busbw = 10.0\nuse_deepep_matrix = "
      "false\nfast = true\nslow = false",
      "[extra_cmd_args]\n\"--run_cycles\" = \"2\"");
  EXPECT_EQ(test_command(boxed),
            "/opt/nccl-tests/build/alltoallv_perf -b 32M -e 32M -g 8 -w 5 -n 50 --nthreads 1 "
            "--stepbytes 1M --op sum --datatype float --root 0 --agg_iters 1 --average 1 "
            "--parallel_init 0 --check 1 --blocking 0 --cudagraph 0 --fast --run_cycles 2");
  EXPECT_FALSE(is_single_process(subtest_name(boxed)));  // srun --mpi, as CloudAI
  // Without a container (a benchpilot extension) the program comes from PATH.
  TestDefinition bare = nccl_test("subtest_name = \"alltoallv_perf_mpi\"\nminbytes = \"1K\"");
  EXPECT_TRUE(test_command(bare).starts_with("alltoallv_perf -b 1K -e 32M -g 1 -w 5 -n 20 "))
      << test_command(bare);
}

TEST(NcclArgs, DeepepMatrixIsRefusedForWantOfTheMoeBenchmark) {
  EXPECT_NE(error_of("subtest_name = \"alltoallv_perf_mpi\"\nuse_deepep_matrix = true")
                .find("cmd_args.use_deepep_matrix"),
            std::string::npos);
  EXPECT_EQ(error_of("subtest_name = \"alltoallv_perf_mpi\"\nuse_deepep_matrix = false"), "");
}

TEST(NcclArgs, UserTextIsQuoted) {
  TestDefinition t = nccl_test("X = \"1; touch /tmp/pwned\"");
  EXPECT_NE(test_command(t).find("-X '1; touch /tmp/pwned'"), std::string::npos);
}

TEST(NcclArgs, BadValuesNameTheKeyAndWhatWasExpected) {
  EXPECT_NE(error_of("subtest_name = \"all_reduce_perf_mp\"")
                .find("did you mean \"all_reduce_perf_mpi\""),
            std::string::npos);
  EXPECT_NE(error_of("minbytes = \"32Q\"").find("cmd_args.minbytes: expected a size"),
            std::string::npos)
      << error_of("minbytes = \"32Q\"");
  EXPECT_NE(error_of("iters = [10, \"x\"]").find("cmd_args.iters[1]"), std::string::npos);
  EXPECT_NE(error_of("min_busbw = [1.0, 2.0]").find("cannot be swept"), std::string::npos);
  EXPECT_NE(error_of("\"a b\" = 1").find("letters, digits"), std::string::npos);
  EXPECT_EQ(error_of("iters = [10, 20]\nmaxbytes = [\"1G\", 67108864]"), "");
}

// Values nccl-tests refuses, or runs forever with, are refused at their line.
TEST(NcclArgs, ValuesNcclTestsCannotRunAreRefusedAtTheirLine) {
  EXPECT_EQ(error_of("iters = -3"),
            "nccl.toml:6: cmd_args.iters: expected an integer from 1 to 2147483647 (what "
            "nccl-tests can run), got -3");
  EXPECT_EQ(error_of("ngpus = 0"),
            "nccl.toml:6: cmd_args.ngpus: expected an integer from 1 to 2147483647 (what "
            "nccl-tests can run), got 0");
  EXPECT_EQ(error_of("minbytes = \"8G\"\nmaxbytes = \"1M\""),
            "nccl.toml:6: cmd_args.minbytes: minbytes (8G = 8589934592 bytes) is above maxbytes "
            "(1M = 1048576 bytes): nccl-tests refuses it (\"invalid sizes for 'minbytes' and "
            "'maxbytes'\")");
  // Only maxbytes written: the default minbytes (32M) is above it, so the error points there.
  EXPECT_NE(error_of("maxbytes = \"1M\"").find("nccl.toml:6: cmd_args.maxbytes: minbytes (32M"),
            std::string::npos);
  // One point of a sweep that nccl-tests would refuse is enough.
  EXPECT_NE(error_of("minbytes = [\"1K\", \"64M\"]").find("cmd_args.minbytes: minbytes (64M"),
            std::string::npos);
  EXPECT_NE(error_of("maxbytes = \"99999999999999999999G\"")
                .find("nccl.toml:6: cmd_args.maxbytes: expected a size in bytes below 2^63"),
            std::string::npos);
  EXPECT_NE(error_of("maxbytes = \"8E\"").find("cmd_args.maxbytes: expected a size"),
            std::string::npos);
  EXPECT_EQ(error_of("min_busbw = -5.0"),
            "nccl.toml:6: cmd_args.min_busbw: expected a bus bandwidth of 0 GB/s or more, got "
            "-5.0");
  EXPECT_EQ(error_of("root = -2").find("nccl.toml:6: cmd_args.root: expected an integer from -1"),
            0u);
  EXPECT_NE(error_of("average = 5").find("from 0 to 4"), std::string::npos);
  EXPECT_NE(error_of("agg_iters = 0").find("from 1 to"), std::string::npos);
  EXPECT_NE(error_of("nthreads = 0").find("from 1 to"), std::string::npos);
  // nccl-tests reads these into a C int: 2^31 would silently become another number.
  EXPECT_NE(error_of("iters = 2147483648").find("to 2147483647"), std::string::npos);
  EXPECT_EQ(error_of("iters = 65536\nagg_iters = [1, 32768]"),
            "nccl.toml:7: cmd_args.agg_iters: iters (65536) times agg_iters (32768) is above "
            "2147483647: nccl-tests divides the time by this product of two C ints, which then "
            "overflows");
  EXPECT_EQ(error_of("iters = 65536\nagg_iters = 32767"), "");
  // What nccl-tests runs with stays valid: root -1 is every rank, a negative warm-up is none.
  EXPECT_EQ(error_of("root = -1\nwarmup_iters = -1\ncheck = 0\ncudagraph = 3\naverage = 4"), "");
  EXPECT_EQ(error_of("min_busbw = 0.0"), "");
}

TEST(NcclArgs, NanAndInfAreNoBusBandwidth) {
  EXPECT_EQ(error_of("min_busbw = nan"),
            "nccl.toml:6: cmd_args.min_busbw: expected a finite number, got nan (nan and inf "
            "cannot be a threshold or an expected value)");
  EXPECT_NE(error_of("min_busbw = inf").find("cmd_args.min_busbw: expected a finite number"),
            std::string::npos);
  EXPECT_NE(error_of("min_busbw = \"nan\"").find("expected a finite number"), std::string::npos);
}

// The one combination with which the size walk never ends: the size cannot grow.
TEST(NcclArgs, SizeWalksThatNeverEndAreRefused) {
  const std::string step_zero = "minbytes = \"1M\"\nmaxbytes = \"8M\"\nstepbytes = \"0\"";
  EXPECT_EQ(error_of(step_zero).find("nccl.toml:8: cmd_args.stepbytes: stepbytes = 0 with "
                                     "stepfactor unset, 0 or 1"),
            0u)
      << error_of(step_zero);
  EXPECT_NE(error_of(step_zero + "\nstepfactor = 1").find("cmd_args.stepbytes"), std::string::npos);
  EXPECT_NE(error_of(step_zero + "\nstepfactor = [2, 0]").find("cmd_args.stepbytes"),
            std::string::npos);
  // stepbytes is not used: a factor above 1 (or a negative one, which nccl-tests holds as a huge
  // unsigned factor) walks the sizes, or there is one size.
  EXPECT_EQ(error_of(step_zero + "\nstepfactor = 2"), "");
  EXPECT_EQ(error_of(step_zero + "\nstepfactor = -1"), "");
  EXPECT_EQ(error_of("minbytes = \"8M\"\nmaxbytes = \"8M\"\nstepbytes = 0"), "");
  // A step factor passed another way comes later on the command line and wins.
  EXPECT_EQ(error_of(step_zero + "\nf = 2"), "");
  // 0 doubled stays 0: nccl-tests' warm-up (v2.16.8 on) and any stepfactor > 1 never end.
  EXPECT_EQ(error_of("minbytes = 0")
                .find("nccl.toml:6: cmd_args.minbytes: a minbytes of 0 bytes "
                      "never ends"),
            0u);
  EXPECT_NE(error_of("minbytes = \"0.5\"").find("a minbytes of 0 bytes"), std::string::npos);
}

// What nccl-tests' parsesize reads (sscanf "%lf %1s"), never stricter.
TEST(NcclArgs, SizesAreReadAsNcclTestsReadsThem) {
  auto bytes = [](Value v) { return size_in_bytes(v); };
  EXPECT_EQ(bytes(Value::string("32M")), 32 << 20);
  EXPECT_EQ(bytes(Value::string("1.5G")), int64_t{3} << 29);
  EXPECT_EQ(bytes(Value::string(" 8 g")), int64_t{8} << 30);
  EXPECT_EQ(bytes(Value::string("32MB")), 32 << 20);  // what follows the unit is ignored
  EXPECT_EQ(bytes(Value::string("1e3")), 1000);
  EXPECT_EQ(bytes(Value::string("0.1K")), 102);  // whole bytes, truncated
  EXPECT_EQ(bytes(Value::integer(128)), 128);
  EXPECT_EQ(bytes(Value::string("8191P")), std::nullopt);  // a unit nccl-tests does not know
  EXPECT_EQ(bytes(Value::string("M")), std::nullopt);
  EXPECT_EQ(bytes(Value::string("-1")), std::nullopt);
  EXPECT_EQ(bytes(Value::integer(-1)), std::nullopt);
  EXPECT_EQ(bytes(Value::string("inf")), std::nullopt);
  EXPECT_EQ(bytes(Value::string("nan")), std::nullopt);
  EXPECT_EQ(bytes(Value::string(std::string("8G\0", 3))), std::nullopt);
  EXPECT_EQ(bytes(Value::string("8589934591G")), ((int64_t{1} << 33) - 1) << 30);
  EXPECT_EQ(bytes(Value::string("8589934592G")), std::nullopt);  // 2^63 bytes
  EXPECT_EQ(bytes(Value::floating(1024.0)), std::nullopt);       // CloudAI's field is a string
}

// CloudAI's string integers stay valid and reach nccl-tests as the integer pydantic reads.
TEST(NcclArgs, IntegerFieldsFollowTheOneRuleAndAreWrittenAsIntegers) {
  TestDefinition t = nccl_test(
      "iters = \"100\"\nwarmup_iters = \" 5 \"\nngpus = 2.0\nagg_iters = \"+1\"\nstepfactor = "
      "\"2_0\"\ncheck = true");
  const std::string cmd = test_command(t);
  EXPECT_NE(cmd.find("--ngpus 2 "), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("--iters 100 --warmup_iters 5 --agg_iters 1 "), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("--check 1 "), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("--stepfactor 20"), std::string::npos) << cmd;
  TestDefinition a2av =
      nccl_test("subtest_name = \"alltoallv_perf_mpi\"\niters = \"50\"\nngpus = 4.0");
  EXPECT_NE(test_command(a2av).find("-g 4 -w 5 -n 50 "), std::string::npos) << test_command(a2av);
  EXPECT_NE(error_of("iters = 2.5").find("cmd_args.iters: expected an integer, got float 2.5"),
            std::string::npos);
  EXPECT_NE(error_of("iters = \"1e2\"").find("expected an integer, got the string \"1e2\""),
            std::string::npos);
}

TEST_F(NcclDir, VerdictFollowsCloudAisRulesThenWrongResultsAndMinBusbw) {
  Output good = parse_output(kGood);
  EXPECT_TRUE(judge_output(good, std::nullopt, "f").ok);
  EXPECT_TRUE(judge_output(good, 45.0, "f").ok);
  RunVerdict low = judge_output(good, 50.0, "f");
  EXPECT_FALSE(low.ok);
  EXPECT_NE(low.message.find("45.71 GB/s is below min_busbw 50.00"), std::string::npos)
      << low.message;
  RunVerdict missing = judge_output(parse_output("# Out of bounds values : 0 OK\n"), {}, "f");
  EXPECT_NE(missing.message.find("Missing success indicators in f: '# Avg bus bandwidth'"),
            std::string::npos);
  std::string wrong = kGood;
  wrong.replace(wrong.find("# Out of bounds values : 0 OK"), 29,
                "# Out of bounds values : 1 FAILED");
  EXPECT_NE(judge_output(parse_output(wrong), {}, "f").message.find("wrong results"),
            std::string::npos);
  EXPECT_NE(judge_output(parse_output("x: Test NCCL failure a.cu:1 'boom'\n"), {}, "f")
                .message.find("NCCL test failure detected in f"),
            std::string::npos);
  EXPECT_NE(nccl_test_workload().read(dir_).verdict.message.find("stdout.txt file not found"),
            std::string::npos);
}

TEST_F(NcclDir, MetricsReportAndDetails) {
  write_output(kGood);
  const Workload& w = nccl_test_workload();
  EXPECT_TRUE(w.recognizes(dir_));
  const RunRead read = w.read(dir_);
  EXPECT_DOUBLE_EQ(read.metrics.at("default"), 40.0);  // mean in-place time, as CloudAI
  EXPECT_DOUBLE_EQ(read.metrics.at("latency-in-place"), 40.0);
  EXPECT_DOUBLE_EQ(read.metrics.at("latency-out-of-place"), 30.0);
  EXPECT_DOUBLE_EQ(read.metrics.at("busbw-avg"), 45.71);
  EXPECT_DOUBLE_EQ(read.metrics.at("busbw-peak"), 60.50);
  EXPECT_EQ(read.metrics.size(), w.info().metric_names.size());
  EXPECT_FALSE(fs::exists(dir_ / "report.txt"));  // reading writes nothing
  ASSERT_TRUE(read.write_reports);
  read.write_reports();
  std::string report = testkit::read_file(dir_ / "report.txt");
  EXPECT_NE(report.find("Peak bus bandwidth: 60.50 GB/s at 2097152 B (2MB, in-place)"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("1 ranks on 1 node(s) (node1)"), std::string::npos) << report;
  EXPECT_TRUE(fs::exists(dir_ / kCsvReport));
  const Value& details = read.details;
  ASSERT_TRUE(details.is_table());
  EXPECT_EQ(details.find("busbw_per_size")->size(), 2u);
  EXPECT_DOUBLE_EQ(details.find("busbw_per_size")->items()[1].find("busbw_in_place")->as_double(),
                   60.50);
}

int run_check(const std::string& condition) {
  return std::system(("bash -c " + shell_quote(condition) + " >/dev/null 2>&1").c_str());
}

TEST_F(NcclDir, ReportSeriesAreBusBandwidthPerMessageSizeOnALogAxis) {
  EXPECT_TRUE(nccl_test_workload().read(dir_).series().empty());  // no output yet
  write_output(std::string(kGood) +
               "           0             0     float    none      -1     1.00    0.00    0.00"
               "       0     1.00    0.00    0.00       0\n");
  auto series = nccl_test_workload().read(dir_).series();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].chart, "nccl-busbw-out-of-place");
  EXPECT_EQ(series[1].chart, "nccl-busbw-in-place");
  for (const ReportSeries& s : series) {
    EXPECT_TRUE(s.log_x);
    EXPECT_EQ(s.y_label, "busbw (GB/s)");
    // The size-0 row has no place on a log axis.
    EXPECT_EQ(s.x, (std::vector<double>{1048576, 2097152}));
  }
  EXPECT_EQ(series[0].y, (std::vector<double>{45.88, 45.88}));
  EXPECT_EQ(series[1].y, (std::vector<double>{30.58, 60.50}));
  write_output("# nccl-tests crashed before the table\n");
  EXPECT_TRUE(nccl_test_workload().read(dir_).series().empty());
}

TEST_F(NcclDir, OutputCheckIsAShellTestOfTheAverageBusBandwidth) {
  write_output(kGood);
  const std::string file = "\"" + (dir_ / kOutputFile).string() + "\"";
  TestRun run;
  run.test = nccl_test("min_busbw = 40");
  auto pass = nccl_test_workload().output_check(run, file);
  ASSERT_TRUE(pass);
  EXPECT_EQ(run_check(pass->condition), 0);
  EXPECT_EQ(pass->requirement, "Avg bus bandwidth >= 40.0 GB/s");
  run.test = nccl_test("min_busbw = 46");
  EXPECT_NE(run_check(nccl_test_workload().output_check(run, file)->condition), 0);
  std::string printed;
  FILE* p = popen(("bash -c " + shell_quote(pass->figure)).c_str(), "r");
  char buf[64];
  while (fgets(buf, sizeof buf, p)) printed += buf;
  pclose(p);
  EXPECT_EQ(printed, "45.71\n");
  std::ofstream(dir_ / kOutputFile) << kGood << " .. node1 pid 1: Test failure common.cu:1\n";
  EXPECT_NE(run_check(pass->condition), 0);  // a failure line fails the gate
}

TEST_F(NcclDir, PrepareRunsInTheContainerOnlyWhenAnImageIsGiven) {
  System system;
  system.name = "s";
  system.scheduler = "slurm";
  system.install_path = dir_ / "install";
  system.global_env_vars = {{"NCCL_DEBUG", "INFO"}};
  TestRun run;
  run.id = "nccl";
  run.test = nccl_test("subtest_name = \"alltoall_perf\"", "[extra_env_vars]\nA = \"x y\"");
  RunContext ctx{system, run, dir_, 1, {}};
  RunSpec bare = nccl_test_workload().prepare(ctx);
  EXPECT_EQ(bare.srun_args, std::vector<std::string>{"--ntasks=1"});
  EXPECT_FALSE(bare.use_mpi);
  EXPECT_TRUE(bare.command.starts_with("source " + (dir_ / kEnvFile).string() + "; alltoall_perf "))
      << bare.command;
  std::string env_text = testkit::read_file(dir_ / kEnvFile);
  EXPECT_NE(env_text.find("export NCCL_DEBUG=INFO\nexport A='x y'\n"), std::string::npos);

  run.test = nccl_test("docker_image_url = \"nvcr.io#nvidia/pytorch:24.02-py3\"");
  RunSpec boxed = nccl_test_workload().prepare(ctx);
  ASSERT_EQ(boxed.srun_args.size(), 3u);
  EXPECT_EQ(boxed.srun_args[0], "--container-image='nvcr.io#nvidia/pytorch:24.02-py3'");
  EXPECT_TRUE(boxed.srun_args[1].starts_with("--container-mounts=")) << boxed.srun_args[1];
  EXPECT_EQ(boxed.srun_args[2], "--no-container-mount-home");
  EXPECT_TRUE(boxed.use_mpi);
}

}  // namespace
}  // namespace bp::nccl
