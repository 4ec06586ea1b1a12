#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "core/estimate.h"
#include "core/judge.h"
#include "store/calibration_runs.h"
#include "store/compare.h"
#include "store/indexer.h"
#include "store/record_runs.h"
#include "store/regression.h"
#include "store/store.h"
#include "testkit/job_records.h"
#include "testkit/testkit.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  static StoredRun run(const std::string& campaign, int step, double step_time,
                       const std::string& tp = "1") {
    StoredRun r;
    r.campaign = campaign;
    r.results_dir = "/results/" + campaign;
    r.run_dir = r.results_dir + "/case/0/" + std::to_string(step);
    r.case_id = "case";
    r.step = step;
    r.workload = "MegatronBridge";
    r.model = "llama3_8b";
    r.system = "cluster-a";
    r.gpu_type = "h100";
    r.num_gpus = 8;
    r.container_image = "nemo:26.02";
    r.end_time = "2026-11-2" + std::to_string(step % 10) + "T10:00:00";
    r.state = "COMPLETED";
    r.verdict = "PASSED";
    r.params = {{"cmd_args.tp", tp}, {"cmd_args.container_image", r.container_image}};
    r.metrics = {{"step-time", step_time}, {"tflops-per-gpu", 400.0 / step_time}};
    for (int i = 0; i < 10; ++i)
      r.samples["step-time"].push_back(step_time * (1.0 + 0.002 * ((i * 7) % 5 - 2)));
    return r;
  }

  // <root>/llama/0 with the test-run.toml of a Megatron-Bridge run of llama3_8b on h100.
  static fs::path llama_run_folder(const fs::path& root) {
    const fs::path run = root / "llama" / "0";
    fs::create_directories(run);
    std::ofstream(run / "test-run.toml")
        << "name = \"llama\"\nnnodes = 1\ncurrent_iteration = 0\nstep = 0\n"
        << "[test_definition]\nname = \"mb\"\ntest_template_name = \"MegatronBridge\"\n"
        << "[test_definition.cmd_args]\nmodel_recipe_name = \"llama3_8b\"\ngpu_type = \"h100\"\n";
    return run;
  }

  testkit::TempDir dir_;
};

TEST_F(StoreTest, RecordsAndQueriesWithFiltersAndSamples) {
  auto store = open_sqlite_store(dir_ / "bp.db");
  EXPECT_EQ(store->schema_version(), 3);
  store->record({run("c1", 1, 9.0, "1"), run("c1", 2, 8.0, "2"), run("c2", 3, 8.5, "2")});
  EXPECT_EQ(store->count(), 3);
  HistoryQuery q;
  q.params = {{"cmd_args.tp", "2"}};
  auto rs = store->query(q);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].campaign, "c2");  // newest first
  EXPECT_EQ(rs[0].samples.at("step-time").size(), 10u);
  EXPECT_DOUBLE_EQ(rs[0].metrics.at("step-time"), 8.5);
  q = {};
  q.campaign = "c1";
  EXPECT_EQ(store->query(q).size(), 2u);
  q = {};
  q.since = "2026-11-23";
  EXPECT_EQ(store->query(q).size(), 1u);
  q = {};
  q.system = "other";
  EXPECT_TRUE(store->query(q).empty());
  // Recording a run dir again replaces it.
  store->record({run("c1", 1, 7.0, "1")});
  EXPECT_EQ(store->count(), 3);
}

// The application_id of the SQLite file at `path`, read without benchpilot.
int64_t application_id_of(const fs::path& path) {
  sqlite3* db = nullptr;
  int64_t id = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return id;
}

std::string store_error(const fs::path& path) {
  try {
    open_sqlite_store(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(opened)";
}

TEST_F(StoreTest, MigratesAnOlderSchema) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "old.db").c_str(), &db), SQLITE_OK);
    // Version 1 as the first release wrote it.
    const char* v1 =
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, campaign TEXT NOT NULL, results_dir TEXT NOT "
        "NULL, run_dir TEXT NOT NULL UNIQUE, scenario TEXT, case_id TEXT, iteration INTEGER, "
        "step INTEGER, workload TEXT, model TEXT, system TEXT, gpu_type TEXT, num_gpus INTEGER, "
        "mbridge_commit TEXT, container_image TEXT, benchpilot_version TEXT, start_time TEXT, "
        "end_time TEXT, job_id TEXT, state TEXT, verdict TEXT, message TEXT, step_time REAL, "
        "tflops REAL, metrics TEXT);"
        "CREATE TABLE param_names(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
        "CREATE TABLE params(run_id INTEGER NOT NULL, name_id INTEGER NOT NULL, value TEXT, "
        "PRIMARY KEY(run_id, name_id)) WITHOUT ROWID;"
        "INSERT INTO runs(campaign, results_dir, run_dir, verdict, metrics) VALUES "
        "('old', '/r', '/r/x', 'PASSED', '{\"step-time\": 3.5}');"
        "PRAGMA user_version = 1;";
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_EQ(application_id_of(dir_ / "old.db"), 0);
  auto store = open_sqlite_store(dir_ / "old.db");
  EXPECT_EQ(store->schema_version(), 3);
  EXPECT_EQ(application_id_of(dir_ / "old.db"), kStoreApplicationId);  // stamped as benchpilot's
  auto rs = store->query({});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_DOUBLE_EQ(rs[0].metrics.at("step-time"), 3.5);
  EXPECT_FALSE(rs[0].prediction);  // an older run has none, and reads as before
  EXPECT_FALSE(rs[0].measured_step_time_s);
  store->record({run("new", 1, 9.0)});  // the new table works
  EXPECT_EQ(store->count(), 2);
}

TEST_F(StoreTest, KeepsThePredictionBesideWhatTheRunMeasured) {
  auto store = open_sqlite_store(dir_ / "bp.db");
  StoredRun predicted = run("c1", 1, 9.0);
  predicted.prediction = StoredRun::Prediction{"megatron_bridge/1", 7.5, 1.1, 61.25};
  predicted.measured_step_time_s = 9.0;
  predicted.max_allocated_gib = 55.5;
  predicted.max_reserved_gib = 60.25;
  StoredRun without = run("c1", 2, 8.0);
  without.prediction = StoredRun::Prediction{"megatron_bridge/1", std::nullopt, 1.0, std::nullopt};
  store->record({predicted, without, run("c1", 3, 8.5)});
  HistoryQuery q;
  q.campaign = "c1";
  std::vector<StoredRun> rs = store->query(q);
  ASSERT_EQ(rs.size(), 3u);
  std::sort(rs.begin(), rs.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  ASSERT_TRUE(rs[0].prediction);
  EXPECT_EQ(rs[0].prediction->estimator_version, "megatron_bridge/1");
  EXPECT_EQ(rs[0].prediction->step_time_s, 7.5);
  EXPECT_EQ(rs[0].prediction->step_time_factor, 1.1);
  EXPECT_EQ(rs[0].prediction->memory_gib, 61.25);
  EXPECT_EQ(rs[0].measured_step_time_s, 9.0);
  EXPECT_EQ(rs[0].max_allocated_gib, 55.5);
  EXPECT_EQ(rs[0].max_reserved_gib, 60.25);
  ASSERT_TRUE(rs[1].prediction);  // a prediction without a step time stays one
  EXPECT_FALSE(rs[1].prediction->step_time_s);
  EXPECT_FALSE(rs[1].prediction->memory_gib);
  EXPECT_FALSE(rs[2].prediction);
  EXPECT_FALSE(rs[2].max_allocated_gib);
  // Only the passed run with a predicted and a measured step time calibrates.
  std::vector<Observation> obs = calibration_observations(rs);
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].system, "cluster-a");
  EXPECT_EQ(obs[0].gpu_type, "h100");
  EXPECT_EQ(obs[0].model, "llama3_8b");
  EXPECT_EQ(obs[0].predicted_step_time_s, 7.5);  // raw: the factor applied then is not in it
  EXPECT_EQ(obs[0].measured_step_time_s, 9.0);
  EXPECT_EQ(obs[0].estimator_version, "megatron_bridge/1");
  EXPECT_EQ(calibration_observations(dir_ / "bp.db").size(), 1u);
  // Recording the run again without a prediction drops the old one.
  predicted.prediction.reset();
  store->record({predicted});
  EXPECT_TRUE(calibration_observations(dir_ / "bp.db").empty());
  // No store: no calibration, and nothing is created.
  EXPECT_TRUE(calibration_observations(dir_ / "none.db").empty());
  EXPECT_FALSE(fs::exists(dir_ / "none.db"));
}

TEST_F(StoreTest, AnEmptyFileIsInitialisedAndStamped) {
  testkit::write_file(dir_ / "empty.db", "");
  EXPECT_EQ(open_sqlite_store(dir_ / "empty.db")->count(), 0);
  EXPECT_EQ(application_id_of(dir_ / "empty.db"), kStoreApplicationId);
  EXPECT_EQ(open_sqlite_store(dir_ / "empty.db")->schema_version(), 3);  // recognised next time
}

TEST_F(StoreTest, AnotherProgramsDatabaseIsRefusedUntouched) {
  const fs::path db_path = dir_ / "other.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    // A "runs" table, as in the report: the migration used to fail on it after WAL was set.
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE runs(x TEXT); INSERT INTO runs VALUES ('mine');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  const std::string before = testkit::read_file(db_path);
  EXPECT_THAT(store_error(db_path), testing::AllOf(testing::HasSubstr(db_path.string()),
                                                   testing::HasSubstr("another program"),
                                                   testing::HasSubstr("tables: runs")));
  EXPECT_EQ(testkit::read_file(db_path), before);  // not a byte changed (no WAL switch)
  EXPECT_FALSE(fs::exists(dir_ / "other.db-wal"));

  // One with an application_id of its own, even with benchpilot's tables.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "stamped.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA application_id = 7; CREATE TABLE t(x);", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  const std::string stamped = testkit::read_file(dir_ / "stamped.db");
  EXPECT_THAT(store_error(dir_ / "stamped.db"), testing::HasSubstr("application_id 0x00000007"));
  EXPECT_EQ(testkit::read_file(dir_ / "stamped.db"), stamped);
}

TEST_F(StoreTest, ACorruptFileOrANonRegularPathIsRefusedUntouched) {
  const std::string garbage(8192, 'x');
  testkit::write_file(dir_ / "corrupt.db", garbage);
  EXPECT_THAT(store_error(dir_ / "corrupt.db"),
              testing::AllOf(testing::HasSubstr("corrupt.db"),
                             testing::HasSubstr("file is not a database")));
  EXPECT_EQ(testkit::read_file(dir_ / "corrupt.db"), garbage);

  ASSERT_EQ(::mkfifo((dir_ / "fifo.db").c_str(), 0644), 0);
  EXPECT_THAT(store_error(dir_ / "fifo.db"), testing::HasSubstr("it is a FIFO"));
  fs::create_directory(dir_ / "dir.db");
  EXPECT_THAT(store_error(dir_ / "dir.db"), testing::HasSubstr("it is a directory"));
  fs::create_symlink("/dev/null", dir_ / "null.db");
  EXPECT_THAT(store_error(dir_ / "null.db"), testing::HasSubstr("it is a character device"));
}

TEST_F(StoreTest, ConcurrentWritersLoseNothing) {
  const fs::path db = dir_ / "shared.db";
  open_sqlite_store(db);  // created once; the writers race on inserts only
  const int writers = 4, batches = 25;
  std::vector<pid_t> pids;
  for (int w = 0; w < writers; ++w) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        auto store = open_sqlite_store(db);
        for (int b = 0; b < batches; ++b)
          store->record({run("w" + std::to_string(w), 2 * b + 1, 9.0),
                         run("w" + std::to_string(w), 2 * b + 2, 9.1)});
      } catch (...) {
        rc = 1;
      }
      _exit(rc);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(open_sqlite_store(db)->count(), writers * batches * 2);
}

TEST(StepTimeVerdict, FlagsAFivePercentSlowdownAndIgnoresNoise) {
  CompareOptions o;
  std::vector<double> base, same, slower, small;
  for (int i = 0; i < 10; ++i) {
    double jitter = 1.0 + 0.01 * ((i * 37) % 7 - 3) / 3.0;  // within ±1 %
    base.push_back(9.2 * jitter);
    same.push_back(9.2 * (1.0 + 0.01 * ((i * 11) % 7 - 3) / 3.0));
    slower.push_back(9.2 * 1.05 * jitter);
    small.push_back(9.2 * 1.01 * jitter);
  }
  EXPECT_EQ(metric_verdict(base, {}, slower, {}, false, o).change, Change::kSlower);
  EXPECT_EQ(metric_verdict(slower, {}, base, {}, false, o).change, Change::kFaster);
  EXPECT_EQ(metric_verdict(base, {}, same, {}, false, o).change, Change::kNoChange);
  // Significant but under the 2 % minimum effect.
  EXPECT_EQ(metric_verdict(base, {}, small, {}, false, o).change, Change::kNoChange);
  o.min_effect = 0.005;
  EXPECT_EQ(metric_verdict(base, {}, small, {}, false, o).change, Change::kSlower);
  // Means only: the effect threshold alone decides, and says so.
  PerfVerdict means = metric_verdict({}, 10.0, {}, 10.5, false, CompareOptions{});
  EXPECT_EQ(means.change, Change::kSlower);
  EXPECT_NE(means.explain.find("means only"), std::string::npos);
}

TEST(MetricVerdict, AHigherIsBetterMetricIsWorseWhenItFalls) {
  // Bus bandwidth: a 5 % drop is a regression (kSlower), a 5 % rise an improvement.
  CompareOptions o;
  std::vector<double> base, lower, higher;
  for (int i = 0; i < 10; ++i) {
    double jitter = 1.0 + 0.01 * ((i * 37) % 7 - 3) / 3.0;
    base.push_back(200 * jitter);
    lower.push_back(200 * 0.95 * jitter);
    higher.push_back(200 * 1.05 * jitter);
  }
  EXPECT_EQ(metric_verdict(base, {}, lower, {}, true, o).change, Change::kSlower);
  EXPECT_EQ(metric_verdict(base, {}, higher, {}, true, o).change, Change::kFaster);
  EXPECT_EQ(metric_verdict({}, 200.0, {}, 190.0, true, o).change, Change::kSlower);
  EXPECT_EQ(metric_verdict({}, 200.0, {}, 199.0, true, o).change, Change::kNoChange);
}

// A CloudAI-layout results folder with one NcclTest run whose nccl-tests output (stdout.txt,
// the real format) reports `avg_busbw` as its average bus bandwidth.
fs::path nccl_results(const fs::path& root, double avg_busbw,
                      const std::string& image = "nvcr.io#nvidia/pytorch:24.02-py3") {
  const fs::path run = root / "nccl" / "0";
  fs::create_directories(run);
  std::ofstream(run / "test-run.toml")
      << "name = \"nccl\"\ncurrent_iteration = 0\nstep = 0\nnnodes = 2\n"
         "[test_definition]\nname = \"nccl\"\ntest_template_name = \"NcclTest\"\n"
         "[test_definition.cmd_args]\nsubtest_name = \"all_reduce_perf_mpi\"\n"
         "docker_image_url = \""
      << image << "\"\n";
  // A finished run's job record: without one the folder is a killed run's (UNKNOWN).
  testkit::write_slurm_job_record(run, "job_id = 77\nstate = \"COMPLETED\"\n");
  char avg[64];
  std::snprintf(avg, sizeof avg, "%.3f", avg_busbw);
  std::ofstream(run / "stdout.txt")
      << "# nccl-tests version 2.19.6 nccl-headers=22803 nccl-library=22803\n"
         "# Collective test starting: all_reduce_perf_mpi\n"
         "# nThread 1 nGpus 1 minBytes 1048576 maxBytes 4194304 step: 4(factor) warmup iters: 5 "
         "iters: 20 agg iters: 1 validation: 1 graph: 0 unalign: 0\n#\n# Using devices\n"
         "#  Rank  0 Group  0 Pid 412230 on   node-001 device  0 [0000:18:00] NVIDIA H100\n"
         "#  Rank  1 Group  0 Pid  90117 on   node-002 device  0 [0000:18:00] NVIDIA H100\n#\n"
         "#                                                              out-of-place          "
         "             in-place          \n"
         "#       size         count      type   redop    root     time   algbw   busbw  #wrong "
         "    time   algbw   busbw  #wrong \n"
         "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)        "
         "     (us)  (GB/s)  (GB/s)         \n"
         "     1048576        262144     float     sum      -1    49.23   21.30   "
      << avg << "       0    49.68   21.11   " << avg
      << "       0\n# Out of bounds values : 0 OK\n# Avg bus bandwidth    : " << avg
      << " \n#\n# Collective test concluded: all_reduce_perf_mpi\n#\n";
  return root;
}

TEST_F(StoreTest, ComparingTwoNcclResultsFlagsABandwidthDrop) {
  // Through the indexer and the registry, as `benchpilot compare A B`: the NcclTest workload
  // compares by average bus bandwidth, higher is better.
  auto a = runs_from_results_folder(nccl_results(dir_ / "a", 225.0));
  // A new image (what is being compared: not part of the configuration) with less bandwidth.
  auto dropped =
      runs_from_results_folder(nccl_results(dir_ / "b", 200.0, "nvcr.io#nvidia/pytorch:24.05-py3"));
  auto same = runs_from_results_folder(nccl_results(dir_ / "c", 224.0));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].workload, "NcclTest");
  EXPECT_EQ(a[0].verdict, "PASSED") << a[0].message;
  EXPECT_EQ(a[0].container_image, "nvcr.io#nvidia/pytorch:24.02-py3");
  ASSERT_EQ(a[0].metrics.count("busbw-avg"), 1u);

  auto pairs = compare_runs(a, dropped, CompareOptions{});
  ASSERT_EQ(pairs.size(), 1u);
  ASSERT_FALSE(pairs[0].columns.empty());
  EXPECT_EQ(pairs[0].columns[0].column.metric, "busbw-avg");
  EXPECT_TRUE(pairs[0].columns[0].column.higher_is_better);
  EXPECT_DOUBLE_EQ(*pairs[0].columns[0].a, 225.0);
  EXPECT_DOUBLE_EQ(*pairs[0].columns[0].b, 200.0);
  EXPECT_EQ(pairs[0].verdict.change, Change::kSlower) << pairs[0].verdict.explain;
  EXPECT_NE(pairs[0].verdict.explain.find("-11.1%"), std::string::npos) << pairs[0].verdict.explain;
  // The other way round it is an improvement; a 0.4 % wobble is no change.
  EXPECT_EQ(compare_runs(dropped, a, CompareOptions{})[0].verdict.change, Change::kFaster);
  EXPECT_EQ(compare_runs(a, same, CompareOptions{})[0].verdict.change, Change::kNoChange);

  // The regression gate: against the stored last passing run, and against a reference value.
  auto store = open_sqlite_store(dir_ / "bp.db");
  store->record(a);
  auto gate = regression_verdicts(dropped, {}, store.get(), CompareOptions{}, true);
  ASSERT_EQ(gate.size(), 1u);
  EXPECT_TRUE(gate[0].regression) << gate[0].text;
  std::ofstream(dir_ / "ref.toml") << "[[reference]]\nvalue = 220.0\ntolerance = 0.05\n";
  auto refs = load_references(dir_ / "ref.toml");
  auto against_value = regression_verdicts(dropped, refs, nullptr, CompareOptions{}, false);
  EXPECT_TRUE(against_value[0].regression) << against_value[0].text;
  EXPECT_NE(against_value[0].text.find("GB/s"), std::string::npos) << against_value[0].text;
  EXPECT_FALSE(regression_verdicts(a, refs, nullptr, CompareOptions{}, false)[0].regression);
}

TEST_F(StoreTest, CompareMatchesConfigurationsAcrossImages) {
  std::vector<StoredRun> a = {run("a", 1, 9.0, "1"), run("a", 2, 8.0, "2")};
  std::vector<StoredRun> b = {run("b", 1, 9.0 * 1.05, "1"), run("b", 2, 8.0, "2")};
  for (StoredRun& r : b) {
    r.container_image = "nemo:26.04";
    r.params[1].second = r.container_image;  // what is compared is not part of the key
  }
  auto pairs = compare_runs(a, b, CompareOptions{});
  ASSERT_EQ(pairs.size(), 2u);
  int slower = 0, same = 0;
  for (const auto& p : pairs) {
    slower += p.verdict.change == Change::kSlower;
    same += p.verdict.change == Change::kNoChange;
    EXPECT_FALSE(p.label.empty());
  }
  EXPECT_EQ(slower, 1);
  EXPECT_EQ(same, 1);
}

TEST_F(StoreTest, RegressionGateAgainstReferenceAndLastPassingRun) {
  std::ofstream(dir_ / "ref.toml") << "[[reference]]\ncase = \"case\"\nparams = { tp = 1 }\n"
                                      "step_time = 9.0\ntolerance = 0.03\n"
                                      "[[reference]]\nbaseline = \"last_passing\"\n";
  std::vector<Reference> refs = load_references(dir_ / "ref.toml");
  ASSERT_EQ(refs.size(), 2u);
  auto store = open_sqlite_store(dir_ / "bp.db");
  store->record({run("old", 2, 8.0, "2")});
  std::vector<StoredRun> now = {run("new", 1, 9.5, "1"), run("new", 2, 8.0 * 1.05, "2"),
                                run("new", 3, 7.0, "4")};
  auto v = regression_verdicts(now, refs, store.get(), CompareOptions{}, false);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_TRUE(v[0].regression) << v[0].text;  // 9.5 vs 9.0 ±3 %
  EXPECT_NE(v[0].text.find("+5.6%"), std::string::npos) << v[0].text;
  EXPECT_TRUE(v[1].regression) << v[1].text;  // 5 % slower than the stored run
  EXPECT_FALSE(v[2].regression);
  EXPECT_NE(v[2].text.find("no baseline"), std::string::npos) << v[2].text;
}

// References of a test or case (`reference` in its TOML) apply to its runs; a run none matches
// is judged against the last passing run only when asked (--fail-on-regression without a file).
TEST_F(StoreTest, UnmatchedRunsFallBackToTheLastPassingRunOnlyWhenAsked) {
  Reference case_ref;
  case_ref.case_id = "case";
  case_ref.params = {{"cmd_args.tp", "1"}};
  case_ref.step_time = 9.0;
  auto store = open_sqlite_store(dir_ / "bp.db");
  store->record({run("old", 2, 8.0, "2")});
  std::vector<StoredRun> now = {run("new", 1, 9.1, "1"), run("new", 2, 8.0 * 1.05, "2")};
  auto judged = regression_verdicts(now, {case_ref}, store.get(), CompareOptions{}, true);
  EXPECT_FALSE(judged[0].regression) << judged[0].text;
  EXPECT_EQ(judged[0].text.rfind("ok: +1.1% vs 9.000 s", 0), 0u) << judged[0].text;
  EXPECT_TRUE(judged[1].regression) << judged[1].text;
  EXPECT_NE(judged[1].text.find("last passing run"), std::string::npos) << judged[1].text;
  auto only_refs = regression_verdicts(now, {case_ref}, store.get(), CompareOptions{}, false);
  EXPECT_FALSE(only_refs[1].regression);
  EXPECT_EQ(only_refs[1].text, "no reference");
}

// What `run` does at its end: the finished runs land in the store, each judged by the first
// reference that matches (the file's before the case's own), and a store that cannot be opened
// loses no run's verdict of its own and fails nothing.
TEST_F(StoreTest, RunRecordsItsRunsAndGatesThemAgainstTheMostSpecificReference) {
  const fs::path root = dir_ / "results";
  const fs::path run_dir = llama_run_folder(root);
  {
    std::ofstream log(run_dir / "launcher.log");
    for (int i = 1; i <= 12; ++i)
      log << "Step Time : 9.0s GPU utilization: 400.0MODEL_TFLOP/s/GPU\n";
  }
  RunRecord rec;
  rec.case_id = "llama";
  rec.run_dir = run_dir;
  rec.workload = "MegatronBridge";
  rec.state = "COMPLETED";
  rec.passed = true;
  rec.metrics = {{"step-time", 9.0}};  // what the engine's read of the run gave
  std::vector<RunRecord> records = {rec};

  Scenario scenario;
  TestRun case_run;
  case_run.id = "llama";
  Reference own;  // the case's own reference: 9.0 s passes
  own.step_time = 9.0;
  case_run.test.references = {own};
  scenario.runs = {case_run};
  Reference from_file;  // the reference file's: 8.0 s, 9.0 is a regression
  from_file.step_time = 8.0;
  std::vector<Reference> refs = scenario_references({from_file}, scenario);
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].step_time, 8.0);
  EXPECT_EQ(refs[1].case_id, "llama");  // a case's reference applies to that case only

  RecordOptions judge;
  judge.judge = true;
  EXPECT_EQ(record_runs(dir_ / "bp.db", root, records, {"eos", "v"}, refs, judge), 1);
  EXPECT_EQ(records[0].perf_verdict.rfind("REGRESSION", 0), 0u) << records[0].perf_verdict;
  auto store = open_sqlite_store(dir_ / "bp.db");
  std::vector<StoredRun> stored = store->query(HistoryQuery{});
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].system, "eos");
  EXPECT_EQ(stored[0].measured_step_time_s, 9.0);

  // Only the case's own reference: it passes. Not asked to judge: no verdict at all.
  records[0].perf_verdict.clear();
  EXPECT_EQ(record_runs(dir_ / "bp.db", root, records, {"eos", "v"},
                        scenario_references({}, scenario), judge),
            0);
  EXPECT_EQ(records[0].perf_verdict.rfind("ok:", 0), 0u) << records[0].perf_verdict;
  records[0].perf_verdict.clear();
  EXPECT_EQ(record_runs(dir_ / "bp.db", root, records, {"eos", "v"}, refs, RecordOptions{}), 0);
  EXPECT_EQ(records[0].perf_verdict, "");
  // A store path that is a folder: logged, nothing judged, nothing thrown.
  fs::create_directories(dir_ / "a-folder.db");
  EXPECT_EQ(record_runs(dir_ / "a-folder.db", root, records, {"eos", "v"}, refs, judge), 0);
  EXPECT_EQ(records[0].perf_verdict, "");
  EXPECT_EQ(store->count(), 1);
}

TEST_F(StoreTest, BadReferenceFileNamesLineAndKey) {
  std::ofstream(dir_ / "bad.toml") << "[[reference]]\ncase = \"x\"\nstep_time = \"fast\"\n";
  try {
    load_references(dir_ / "bad.toml");
    FAIL() << "accepted";
  } catch (const std::exception& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("bad.toml:3"), std::string::npos) << what;
    EXPECT_NE(what.find("reference[0].step_time"), std::string::npos) << what;
  }
}

TEST_F(StoreTest, IndexesACloudAIResultsFolderWithoutWritingIntoIt) {
  // CloudAI's layout (reference/cloudai.md section 6): <root>/<case>/<iteration>/ with
  // test-run.toml, slurm-job.toml and cloudai_megatron_bridge_launcher.log.
  const fs::path root = dir_ / "cloudai" / "llama_2026-11-20_10-00-00";
  const fs::path run = root / "llama8b" / "0";
  fs::create_directories(run);
  std::ofstream(run / "test-run.toml")
      << "name = \"llama8b\"\nnnodes = 1\niterations = 1\ncurrent_iteration = 0\nstep = 0\n"
         "[test_definition]\nname = \"mb\"\ntest_template_name = \"MegatronBridge\"\n"
         "[test_definition.cmd_args]\nmodel_recipe_name = \"llama3_8b\"\ngpu_type = \"h100\"\n"
         "num_gpus = 8\ncontainer_image = \"nvcr.io#nvidia/nemo:25.11\"\ntp = 2\n"
         "hf_token = \"hf_plaintext_in_cloudai\"\n"
         "[[test_definition.git_repos]]\nurl = "
         "\"https://github.com/NVIDIA-NeMo/Megatron-Bridge.git\"\n"
         "commit = \"abc123\"\n";
  testkit::write_slurm_job_record(
      run,
      "job_id = 4242\nstate = \"COMPLETED\"\nstart_time = \"2026-11-20T10:00:05\"\n"
      "end_time = \"2026-11-20T10:20:00\"\n");
  {
    std::ofstream log(run / "cloudai_megatron_bridge_launcher.log");
    for (int i = 1; i <= 12; ++i)
      log << "Step Time : " << (i <= 2 ? 20.0 : 9.0 + 0.01 * i)
          << "s GPU utilization: 400.0MODEL_TFLOP/s/GPU\n";
  }
  auto before = fs::last_write_time(run);
  std::vector<StoredRun> runs = runs_from_results_folder(root, {"eos", ""});
  ASSERT_EQ(runs.size(), 1u);
  const StoredRun& r = runs[0];
  EXPECT_EQ(r.campaign, "llama_2026-11-20_10-00-00");
  EXPECT_EQ(r.case_id, "llama8b");
  EXPECT_EQ(r.workload, "MegatronBridge");
  EXPECT_EQ(r.model, "llama3_8b");
  EXPECT_EQ(r.system, "eos");
  EXPECT_EQ(r.num_gpus, 8);
  EXPECT_EQ(r.mbridge_commit, "abc123");
  EXPECT_EQ(r.container_image, "nvcr.io#nvidia/nemo:25.11");
  EXPECT_EQ(r.job_id, "4242");
  EXPECT_EQ(r.state, "COMPLETED");
  EXPECT_EQ(r.verdict, "PASSED");
  EXPECT_EQ(r.end_time, "2026-11-20T10:20:00");
  EXPECT_EQ(r.samples.at("step-time").size(), 10u);  // CloudAI's last 10 steps
  EXPECT_NEAR(r.metrics.at("step-time"), 9.075, 1e-9);
  for (const auto& [k, v] : r.params) EXPECT_NE(v, "hf_plaintext_in_cloudai") << k;
  EXPECT_FALSE(fs::exists(run / "report.txt"));  // the folder is only read
  EXPECT_EQ(fs::last_write_time(run), before);
  EXPECT_EQ(find_results_folders(dir_ / "cloudai"), std::vector<fs::path>{root});
}

TEST_F(StoreTest, IndexReadsThePredictionFrozenAtSubmissionAndTheMeasuredMemory) {
  const fs::path root = dir_ / "results";
  const fs::path run = llama_run_folder(root);
  {
    // The lines as Megatron-Bridge v0.6.0 prints them (train_utils.py training_log).
    std::ofstream log(run / "launcher.log");
    for (int i = 1; i <= 3; ++i) {
      log << "Step Time : 9.0s GPU utilization: 400.0MODEL_TFLOP/s/GPU\n";
      log << "Theoretical memory footprints: weight and optimizer=30000.00 MB, activation=9000.00 "
             "MB, total=39000.00 MB\n\n";
      log << "[Rank 0] (after " << i
          << " iterations) memory (GB) | mem-allocated-gigabytes: " << 40 + i
          << " | mem-active-gigabytes: 41 | mem-inactive-gigabytes: 0.81234 | "
          << "mem-reserved-gigabytes: 61.843 | mem-max-allocated-gigabytes: 5" << i
          << ".5 | mem-max-active-gigabytes: 55.902 | mem-max-inactive-gigabytes: 3.2178 | "
             "mem-max-reserved-gigabytes: 64.424 | mem-alloc-retires: 0 | mem-allocated-count: "
             "8731\n";
    }
  }
  FrozenEstimate f;
  f.estimate.estimator_version = "megatron_bridge/1";
  f.estimate.step_time_s = 8.0;
  f.estimate.memory = MemoryEstimate{10, 5, 20, 15, 2, {}};
  f.step_time_factor = 1.25;
  write_frozen_estimate(run, f);
  std::vector<StoredRun> runs = runs_from_results_folder(root, {"eos", ""});
  ASSERT_EQ(runs.size(), 1u);
  const StoredRun& r = runs[0];
  ASSERT_TRUE(r.prediction);
  EXPECT_EQ(r.prediction->estimator_version, "megatron_bridge/1");
  EXPECT_EQ(r.prediction->step_time_s, 8.0);
  EXPECT_EQ(r.prediction->step_time_factor, 1.25);
  EXPECT_EQ(r.prediction->memory_gib, 52.0);
  EXPECT_EQ(r.measured_step_time_s, 9.0);
  // The largest peak over the reports, GB (10^9 bytes) to GiB.
  ASSERT_TRUE(r.max_allocated_gib);
  EXPECT_NEAR(*r.max_allocated_gib, 53.5e9 / (1 << 30), 1e-9);
  EXPECT_NEAR(r.max_reserved_gib.value_or(0), 64.424e9 / (1 << 30), 1e-9);
  // Without estimate.toml the run is stored without a prediction, its measurements still kept.
  fs::remove(run / kFrozenEstimateFile);
  runs = runs_from_results_folder(root, {"eos", ""});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_FALSE(runs[0].prediction);
  EXPECT_EQ(runs[0].measured_step_time_s, 9.0);
}

// At the end of `run` the store takes the prediction the run's record holds (read with its
// verdict), not the folder's estimate.toml a second time.
TEST_F(StoreTest, RecordsOfARunBringTheirPredictionToTheStore) {
  const fs::path root = dir_ / "results";
  const fs::path run = root / "llama" / "0";
  fs::create_directories(run);
  std::ofstream(run / "test-run.toml")
      << "name = \"llama\"\nnnodes = 1\ncurrent_iteration = 0\nstep = 0\n"
      << "[test_definition]\nname = \"mb\"\ntest_template_name = \"MegatronBridge\"\n";
  std::ofstream(run / "launcher.log")
      << "Step Time : 9.0s GPU utilization: 400.0MODEL_TFLOP/s/GPU\n";
  RunRecord rec;
  rec.case_id = "llama";
  rec.run_dir = run;
  rec.state = "COMPLETED";
  rec.passed = true;
  rec.prediction.emplace();
  rec.prediction->estimate.estimator_version = "megatron_bridge/2";
  rec.prediction->estimate.step_time_s = 7.0;
  std::vector<StoredRun> runs = runs_from_records(root, {rec}, {"eos", ""});
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_TRUE(runs[0].prediction);  // the folder holds no estimate.toml
  EXPECT_EQ(runs[0].prediction->step_time_s, 7.0);
  EXPECT_EQ(runs[0].measured_step_time_s, 9.0);
  rec.prediction.reset();  // a run submitted without one
  runs = runs_from_records(root, {rec}, {"eos", ""});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_FALSE(runs[0].prediction);
}

TEST_F(StoreTest, IndexJudgesAFolderAsGenerateReportDoes) {
  // A killed run's folder: steps in the log but no job record. generate-report calls it
  // UNKNOWN (never PASSED); so must index. A run its dependency stopped on purpose passes.
  const fs::path root = dir_ / "killed";
  auto make_run = [&](const std::string& name) {
    const fs::path run = root / name / "0";
    fs::create_directories(run);
    std::ofstream(run / "test-run.toml")
        << "name = \"" << name << "\"\nnnodes = 1\ncurrent_iteration = 0\nstep = 0\n"
        << "[test_definition]\nname = \"mb\"\ntest_template_name = \"MegatronBridge\"\n";
    std::ofstream(run / "launcher.log")
        << "Step Time : 9.0s GPU utilization: 400.0MODEL_TFLOP/s/GPU\n";
    return run;
  };
  make_run("killed");
  std::ofstream(make_run("stopped") / "job-state.toml")
      << "job_id = \"7\"\nstate = \"CANCELLED\"\nreason = \"\"\nstopped_by_dependency = true\n";
  std::vector<StoredRun> runs = runs_from_results_folder(root);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].case_id, "killed");
  EXPECT_EQ(runs[0].verdict, "UNKNOWN") << runs[0].message;
  EXPECT_NE(runs[0].message.find("no job state recorded"), std::string::npos) << runs[0].message;
  EXPECT_EQ(runs[1].case_id, "stopped");
  EXPECT_EQ(runs[1].verdict, "PASSED") << runs[1].message;
  for (const StoredRun& r : runs) {
    RunRecord rec;
    FolderJudgement j =
        judge_run_folder(find_workload("MegatronBridge")->read(r.run_dir), r.run_dir);
    rec.state = j.state;
    rec.passed = j.judgement.passed;
    rec.skipped = j.judgement.skipped;
    EXPECT_EQ(r.verdict, to_string(run_status(rec))) << r.case_id;
  }
}

// Any scheduler's job record gives the stored run its state, id and times (the indexer asks
// the scheduler registry; it used to read only Slurm's file): here the standalone one.
TEST_F(StoreTest, TheStandaloneJobRecordGivesStateAndTimes) {
  const fs::path run = dir_ / "local" / "c1" / "0";
  fs::create_directories(run);
  std::ofstream(run / "test-run.toml")
      << "name = \"c1\"\nnnodes = 1\ncurrent_iteration = 0\nstep = 0\n"
      << "[test_definition]\nname = \"s\"\ntest_template_name = \"Sleep\"\n"
      << "[test_definition.cmd_args]\nseconds = 1\n";
  std::ofstream(run / "standalone-job.toml")
      << "job_id = 31337\nname = \"c1\"\nstate = \"FAILED\"\nreason = \"exit 3\"\n"
      << "exit_code = 3\nexit_signal = 0\nstart_time = \"2026-12-01T09:00:00\"\n"
      << "end_time = \"2026-12-01T09:00:04\"\nelapsed_time_sec = 4\n";
  std::vector<StoredRun> runs = runs_from_results_folder(dir_ / "local");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].job_id, "31337");
  EXPECT_EQ(runs[0].state, "FAILED");
  EXPECT_EQ(runs[0].start_time, "2026-12-01T09:00:00");
  EXPECT_EQ(runs[0].end_time, "2026-12-01T09:00:04");
  EXPECT_EQ(runs[0].verdict, "FAILED") << runs[0].message;
}

}  // namespace
}  // namespace bp
