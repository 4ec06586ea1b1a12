#include "loaders/load_system.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "testkit/testkit.h"
#include "util/error.h"
#include "util/log.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kData = fs::path(BENCHPILOT_SOURCE_DIR) / "tests/data/config/good/system";

class LoadSystemTest : public ::testing::Test {
 protected:
  fs::path write(const std::string& text) {
    return testkit::write_file(dir_ / "system.toml", text);
  }
  // The error message from loading `text`, or "no error".
  std::string error_of(const std::string& text) {
    try {
      load_system(write(text));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  }

  testkit::TempDir dir_;
};

const std::string kSlurmHead =
    "name = 'c'\nscheduler = 'slurm'\ninstall_path = '/i'\noutput_path = '/o'\n"
    "default_partition = 'p'\n";
const std::string kPartitions = "[[partitions]]\nname = 'p'\n";

TEST_F(LoadSystemTest, SlurmAllFields) {
  System s = load_system(kData / "slurm.toml");
  EXPECT_EQ(s.name, "example-cluster");
  EXPECT_EQ(s.scheduler, "slurm");
  EXPECT_EQ(s.install_path, fs::current_path() / "install_dir");
  EXPECT_TRUE(s.install_path.is_absolute());
  EXPECT_EQ(s.output_path, fs::path("/abs/results"));
  EXPECT_EQ(s.hf_home_path, s.install_path / "huggingface");
  EXPECT_EQ(s.default_partition, "partition_1");
  // What only Slurm reads (partitions, ...) is checked in systems/registry_test.cc.
  EXPECT_NE(s.scheduler_settings, nullptr);
  EXPECT_EQ(s.account, "acct");
  EXPECT_EQ(s.distribution, "block");
  EXPECT_EQ(s.mpi, "pmi2");
  EXPECT_EQ(s.gpus_per_node, 8);
  EXPECT_EQ(s.ntasks_per_node, 8);  // from "8"
  EXPECT_TRUE(s.cache_docker_images_locally);
  EXPECT_EQ(s.monitor_interval, 5);
  EXPECT_EQ(s.extra_srun_args, "--reservation my_reserv");
  EXPECT_EQ(s.extra_sbatch_args, (std::vector<std::string>{"--exclusive", "--constraint=gpu"}));
  EXPECT_TRUE(s.container_mount_home);
  EXPECT_EQ(s.workload_settings.at("launcher_python"), "/usr/bin/python3");
  EXPECT_EQ(s.supports_gpu_directives, false);
  ASSERT_EQ(s.global_env_vars.size(), 2u);
  EXPECT_EQ(s.global_env_vars[0], (std::pair<std::string, std::string>{"NCCL_IB_GID_INDEX", "3"}));
  EXPECT_EQ(s.global_env_vars[1].first, "MELLANOX_VISIBLE_DEVICES");
  EXPECT_EQ(s.loc.file, (kData / "slurm.toml").string());
}

TEST_F(LoadSystemTest, SlurmDefaults) {
  System s = load_system(write(kSlurmHead + kPartitions));
  EXPECT_EQ(s.monitor_interval, 60);
  EXPECT_EQ(s.mpi, "pmix");
  EXPECT_FALSE(s.gpus_per_node.has_value());
  EXPECT_FALSE(s.cache_docker_images_locally);
  EXPECT_FALSE(s.container_mount_home);
  EXPECT_FALSE(s.supports_gpu_directives.has_value());
  EXPECT_EQ(s.hf_home_path, fs::path("/i/huggingface"));
}

TEST_F(LoadSystemTest, Standalone) {
  System s = load_system(kData / "standalone.toml");
  EXPECT_EQ(s.scheduler, "standalone");
  EXPECT_EQ(s.monitor_interval, 1);
  EXPECT_EQ(s.hf_home_path, fs::path("/tmp/bp-install/huggingface"));
  // Slurm-only keys are unknown on a standalone system.
  std::string err = error_of(
      "name = 'l'\nscheduler = 'standalone'\ninstall_path = '/i'\noutput_path = '/o'\n"
      "gpus_per_node = 8\n");
  EXPECT_THAT(err, HasSubstr("system.toml:5: gpus_per_node: unknown key 'gpus_per_node'"));
}

TEST_F(LoadSystemTest, SchedulerErrors) {
  EXPECT_THAT(error_of("name = 'x'\n"),
              HasSubstr("scheduler: missing 'scheduler' key (expected \"slurm\" or "
                        "\"standalone\")"));
  std::string err = error_of("name = 'x'\nscheduler = 'kubernetes'\n");
  EXPECT_THAT(err, HasSubstr("system.toml:2: scheduler: unsupported scheduler \"kubernetes\""));
  EXPECT_THAT(err, HasSubstr("slurm, standalone"));
}

TEST_F(LoadSystemTest, FieldErrorsNameLineAndKey) {
  EXPECT_THAT(error_of(kSlurmHead + "monitr_interval = 3\n" + kPartitions),
              HasSubstr("system.toml:6: monitr_interval: unknown key 'monitr_interval' in "
                        "system; did you mean 'monitor_interval'?"));
  EXPECT_THAT(error_of("name = 'c'\nscheduler = 'slurm'\ninstall_path = '/i'\noutput_path = "
                       "'/o'\n" +
                       kPartitions),
              HasSubstr("default_partition: missing required key 'default_partition'"));
  EXPECT_THAT(error_of(kSlurmHead), HasSubstr("partitions: missing required key 'partitions'"));
  EXPECT_THAT(error_of(kSlurmHead + "gpus_per_node = 'eight'\n" + kPartitions),
              HasSubstr("system.toml:6: gpus_per_node: expected an integer, got the string"));
  EXPECT_THAT(
      error_of(kSlurmHead + "status_retry_pause_seconds = -1\n" + kPartitions),
      HasSubstr(
          "system.toml:6: status_retry_pause_seconds: expected an integer from 0 to 3600, got -1"));
  EXPECT_THAT(error_of(kSlurmHead + "extra_transient_status_errors = ['ok', '  ']\n" + kPartitions),
              HasSubstr("system.toml:6: extra_transient_status_errors[1]: expected a non-blank"));
  EXPECT_THAT(error_of(kSlurmHead + kPartitions + "[[partitions.groups]]\nname = 'g'\nnode = []\n"),
              HasSubstr("system.toml:10: partitions[0].groups[0].node: unknown key 'node' in "
                        "group; did you mean 'nodes'?"));
  EXPECT_THAT(error_of(kSlurmHead + kPartitions + "[data_repository]\nverify_certs = true\n"),
              HasSubstr("data_repository.endpoint: missing required key 'endpoint'"));
  EXPECT_THAT(error_of(kSlurmHead + kPartitions + "[reports]\nstatus = 1\n"),
              HasSubstr("system.toml:9: reports.status: expected a table"));
  EXPECT_THAT(error_of(kSlurmHead + "install_path = 3\n" + kPartitions),
              HasSubstr("invalid TOML"));  // duplicate key caught by the TOML reader
}

TEST_F(LoadSystemTest, EnvVarValues) {
  int warnings = log::warning_count();
  System s = load_system(
      write(kSlurmHead + kPartitions + "[global_env_vars]\nA = 'x'\nB = 8\nC = true\nD = 1.5\n"));
  EXPECT_EQ(s.global_env_vars, (EnvVars{{"A", "x"}, {"B", "8"}, {"C", "True"}, {"D", "1.5"}}));
  EXPECT_EQ(log::warning_count(), warnings + 3);
  EXPECT_THAT(error_of(kSlurmHead + kPartitions + "[global_env_vars]\nA = ['x']\n"),
              HasSubstr("system.toml:9: global_env_vars.A: expected a string value"));
}

}  // namespace
}  // namespace bp
