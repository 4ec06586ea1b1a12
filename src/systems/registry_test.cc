// The scheduler registry: every row is complete, and an unknown name lists the known ones.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <set>

#include "loaders/load_system.h"
#include "config/toml_reader.h"
#include "core/executor.h"
#include "core/scheduler.h"
#include "testkit/fake_command_runner.h"
#include "testkit/testkit.h"
#include "systems/slurm/slurm_executor.h"
#include "systems/slurm/slurm_system.h"
#include "util/error.h"

namespace bp {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testkit::FakeCommandRunner;

// A system of this scheduler built in code, with the GPU-directive answer given so that no
// probe needs a cluster.
System system_of(const Scheduler& s) {
  System sys;
  sys.name = "t";
  sys.scheduler = std::string(s.name());
  sys.supports_gpu_directives = true;
  return sys;
}

std::string load_error(const std::string& text) {
  try {
    parse_system_table(read_toml_string(text, "system.toml"));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SchedulerRegistry, NamesAreUniqueAndFound) {
  std::set<std::string> names;
  for (const Scheduler* s : all_schedulers()) {
    ASSERT_FALSE(s->name().empty());
    EXPECT_TRUE(names.insert(std::string(s->name())).second) << s->name();
    EXPECT_EQ(find_scheduler(s->name()), s);
  }
  EXPECT_EQ(scheduler_names(), (std::vector<std::string>{"slurm", "standalone"}));
  EXPECT_EQ(find_scheduler("lsf"), nullptr);
}

TEST(SchedulerRegistry, UnknownSchedulerListsTheKnownOnes) {
  System sys;
  sys.scheduler = "kubernetes";
  try {
    scheduler_of(sys);
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unsupported scheduler \"kubernetes\" (supported: slurm, "
                                    "standalone)"));
  }
  EXPECT_THROW(make_executor(sys), ValueError);
  EXPECT_THAT(load_error("name = 'x'\nscheduler = 'kubernetes'\n"),
              HasSubstr("system.toml:2: scheduler: unsupported scheduler \"kubernetes\" "
                        "(supported: slurm, standalone)"));
  EXPECT_THAT(load_error("name = 'x'\n"),
              HasSubstr("missing 'scheduler' key (expected \"slurm\" or \"standalone\")"));
}

// Every part of every row answers: an executor, node names, a node count, a probe.
TEST(SchedulerRegistry, EveryRowIsComplete) {
  for (const Scheduler* s : all_schedulers()) {
    SCOPED_TRACE(std::string(s->name()));
    System sys = system_of(*s);
    EXPECT_NE(s->make_executor(sys), nullptr);
    EXPECT_TRUE(s->resolve_nodes(sys, {}).empty());
    EXPECT_EQ(s->listed_nodes(sys).nodes, 0u);  // nothing listed in a code-built system
    EXPECT_THAT(s->on_compute_node(sys, "job", "echo 'a b'"), HasSubstr("echo 'a b'"));
    s->probe(sys);  // answered already: asks nobody, keeps it
    EXPECT_EQ(sys.supports_gpu_directives, true);
    std::set<std::string> keys;
    for (const std::string& k : s->system_keys()) EXPECT_TRUE(keys.insert(k).second) << k;
  }
}

// The rest of a minimal valid system TOML of each scheduler, without `key` (a new row adds its
// own here).
std::string minimal_rest(std::string_view scheduler, const std::string& key) {
  if (scheduler == "slurm")
    return (key == "default_partition" ? "" : "default_partition = 'p'\n") +
           std::string(key == "partitions" ? "" : "[[partitions]]\nname = 'p'\n");
  if (scheduler == "standalone") return "";
  ADD_FAILURE() << "no minimal system for scheduler " << scheduler;
  return "";
}

// The keys a row declares are the keys its reader checks: a control character is a wrong
// value for every one of them, and the error names that key (it was read and validated, not
// just let through). A key of another scheduler is unknown.
TEST(SchedulerRegistry, EveryDeclaredKeyIsReadAndChecked) {
  const std::string head = "install_path = '/i'\noutput_path = '/o'\nname = 'n'\n";
  for (const Scheduler* s : all_schedulers()) {
    const std::string top = "scheduler = '" + std::string(s->name()) + "'\n" + head;
    EXPECT_EQ(load_error(top + minimal_rest(s->name(), "")), "no error") << s->name();
    for (const std::string& key : s->system_keys()) {
      std::string err = load_error(top + key + " = \"\\u0001\"\n" + minimal_rest(s->name(), key));
      EXPECT_THAT(err, HasSubstr(": " + key + ": ")) << s->name() << " " << key;
      EXPECT_THAT(err, ::testing::Not(HasSubstr("unknown key"))) << s->name() << " " << key;
    }
  }
  EXPECT_THAT(load_error("scheduler = 'standalone'\n" + head + "partitions = []\n"),
              HasSubstr("unknown key 'partitions'"));
}

TEST(SlurmScheduler, ReadsItsKeysAndCountsTheDefaultPartition) {
  const Scheduler& slurm = *find_scheduler("slurm");
  EXPECT_TRUE(slurm.runs_self_submitting());
  System sys = parse_system_table(read_toml_string(
      "name = 'c'\nscheduler = 'slurm'\ninstall_path = '/i'\noutput_path = '/o'\n"
      "default_partition = 'p1'\ngpus_per_node = 4\nstatus_retry_pause_seconds = 3\n"
      "[[partitions]]\nname = 'p1'\n[[partitions.groups]]\nname = 'g'\n"
      "nodes = ['n[1-3]', 'n3', 'm1']\n[[partitions]]\nname = 'p2'\n",
      "system.toml"));
  EXPECT_EQ(sys.monitor_interval, 60);  // the Slurm row's default
  EXPECT_EQ(sys.gpus_per_node, 4);
  EXPECT_EQ(slurm_settings(sys).status_retry_pause_seconds, 3);
  NodeCapacity cap = slurm.listed_nodes(sys);
  EXPECT_EQ(cap.nodes, 4u);  // n1 n2 n3 m1
  EXPECT_EQ(cap.where, "partition 'p1'");
  sys.account = "acct";
  EXPECT_EQ(slurm.on_compute_node(sys, "imp", "enroot import x"),
            "srun --export=ALL --partition=p1 --account=acct -N1 --ntasks=1 --job-name=imp "
            "enroot import x");
  slurm_settings(sys).partitions[0].groups[0].nodes = {"n[3-1"};
  try {
    slurm.listed_nodes(sys);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("system.toml: partitions: unbalanced '['"));
  }
}

// CloudAI's SlurmSystem fields that only Slurm reads land in its SlurmSettings.
TEST(SlurmScheduler, KeepsItsOwnSettings) {
  System s =
      load_system(fs::path(BENCHPILOT_SOURCE_DIR) / "tests/data/config/good/system/slurm.toml");
  const SlurmSettings& slurm = slurm_settings(s);
  ASSERT_EQ(slurm.partitions.size(), 2u);
  ASSERT_EQ(slurm.partitions[0].groups.size(), 2u);
  EXPECT_EQ(slurm.partitions[0].groups[1].name, "group_2");
  EXPECT_EQ(slurm.partitions[0].groups[1].nodes,
            (std::vector<std::string>{"node-[026-030]", "node-040"}));
  EXPECT_TRUE(slurm.partitions[1].groups.empty());
  EXPECT_EQ(slurm.extra_transient_status_errors, (std::vector<std::string>{"Socket timed out"}));
  EXPECT_EQ(slurm.status_retry_pause_seconds, 0);
  ASSERT_TRUE(slurm.data_repository.is_table());
  EXPECT_EQ(slurm.data_repository.find("endpoint")->as_string(), "https://example.com/data");
  ASSERT_NE(slurm.reports.find_path("per_test.enable"), nullptr);
  EXPECT_FALSE(slurm.reports.find_path("per_test.enable")->as_bool());

  System d = parse_system_table(
      read_toml_string("name = 'c'\nscheduler = 'slurm'\ninstall_path = '/i'\noutput_path = '/o'\n"
                       "default_partition = 'p'\n[[partitions]]\nname = 'p'\n",
                       "system.toml"));
  EXPECT_EQ(slurm_settings(d).status_retry_pause_seconds, 10);
  EXPECT_TRUE(slurm_settings(d).data_repository.is_none());
  // Changing one system's settings leaves a copy's alone.
  System copy = d;
  slurm_settings(copy).status_retry_pause_seconds = 1;
  EXPECT_EQ(slurm_settings(d).status_retry_pause_seconds, 10);
}

// The probe's answer lives in the System, so the executor does not ask `scontrol` again: the
// GPU-directive question is asked once per run.
TEST(SlurmScheduler, TheExecutorUsesTheProbedAnswerWithoutAskingAgain) {
  testkit::TempDir tmp;
  const fs::path dir = tmp.path();
  System sys = system_of(*find_scheduler("slurm"));
  sys.gpus_per_node = 8;
  sys.supports_gpu_directives = false;  // as probe() leaves it on a cluster without GRES
  auto runner = std::make_shared<FakeCommandRunner>([](const std::vector<std::string>& argv) {
    return argv[0] == "sbatch" ? FakeCommandRunner::ok("4242\n")
                               : FakeCommandRunner::fail("unexpected");
  });
  SlurmExecutor ex(sys, {}, runner);
  JobRequest req;
  req.name = "j";
  req.run_dir = dir;
  req.spec.command = "true";
  Job job = ex.submit(req);
  EXPECT_EQ(job.id, "4242");
  EXPECT_EQ(runner->count("sbatch"), 1);
  EXPECT_EQ(runner->count("scontrol"), 0);
  std::ifstream in(dir / "sbatch.sh");
  std::string script((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(script.find("--gres"), std::string::npos) << script;
}

TEST(StandaloneScheduler, UsesNodeNamesAsWrittenAndRunsNoLauncher) {
  const Scheduler& standalone = *find_scheduler("standalone");
  EXPECT_FALSE(standalone.runs_self_submitting());
  System sys = system_of(standalone);
  EXPECT_EQ(standalone.resolve_nodes(sys, {"b", "a"}), (std::vector<std::string>{"b", "a"}));
  System loaded = parse_system_table(read_toml_string(
      "name = 'l'\nscheduler = 'standalone'\ninstall_path = '/i'\noutput_path = '/o'\n",
      "system.toml"));
  EXPECT_EQ(loaded.monitor_interval, 1);
  EXPECT_EQ(loaded.scheduler_settings, nullptr);
}

}  // namespace
}  // namespace bp
