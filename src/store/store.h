// The results store: every finished run benchpilot knows of, for history, comparison and
// regression checks. It is an index: `benchpilot index DIR...` rebuilds it from results folders
// (benchpilot's and CloudAI's), which stay the source of truth.
//
// ResultsStore is the small interface the commands use; open_sqlite_store() is the one
// implementation today (a server database could be another).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/error.h"

namespace bp {

// What the workload's estimator predicted when a run was submitted (its estimate.toml): the raw
// model's figures and the step-time factor the calibration then applied. Declared outside
// StoredRun: clang 14 does not see a nested struct with member initializers as default-
// constructible inside its enclosing class, so optional<Prediction>::emplace() failed there.
struct StoredPrediction {
  std::string estimator_version;
  std::optional<double> step_time_s;  // raw
  double step_time_factor = 1;
  std::optional<double> memory_gib;  // total per GPU, GiB
};

// One finished run, with what makes comparisons meaningful.
struct StoredRun {
  int64_t id = 0;           // store row id (0 before it is stored)
  std::string campaign;     // campaign id (journal) or the results folder name
  std::string results_dir;  // absolute
  std::string run_dir;      // absolute; unique in the store
  std::string scenario;
  std::string case_id;
  int iteration = 0;
  int step = 0;
  std::string workload;  // test_template_name
  std::string model;     // model_recipe_name (or model_family_name)
  std::string system;    // system name
  std::string gpu_type;
  int num_gpus = 0;
  std::string mbridge_commit;
  std::string container_image;
  std::string benchpilot_version;
  std::string start_time;  // ISO 8601 as Slurm reports it
  std::string end_time;
  std::string job_id;
  std::string state;    // Slurm's final state
  std::string verdict;  // run_status(): PASSED, FAILED, SKIPPED, UNKNOWN
  std::string message;
  // Every parameter of the run ("cmd_args.tp", "extra_env_vars.X"), as plain text.
  std::vector<std::pair<std::string, std::string>> params;
  std::map<std::string, double> metrics;               // means, by the workload's metric names
  std::map<std::string, std::vector<double>> samples;  // e.g. one per step, oldest first
  using Prediction = StoredPrediction;
  std::optional<Prediction> prediction;  // none for a run submitted without one
  // What the run measured of it (core/estimate.h MeasuredRun); GiB = 2^30 bytes.
  std::optional<double> measured_step_time_s, max_allocated_gib, max_reserved_gib;
};

struct HistoryQuery {
  std::string model;     // exact; empty = any
  std::string system;    // exact; empty = any
  std::string workload;  // exact; empty = any
  std::string campaign;  // exact campaign id or results folder; empty = any
  std::vector<std::pair<std::string, std::string>> params;  // all must match exactly
  std::string since;  // ISO 8601 lower bound on end_time (inclusive); empty = any
  std::string until;  // upper bound (exclusive)
  bool passed_only = false;
  int64_t limit = 1000;  // newest first; <= 0: no limit
};

class ResultsStore {
 public:
  virtual ~ResultsStore() = default;
  // Inserts or replaces (by run_dir) the runs, all in one transaction.
  virtual void record(const std::vector<StoredRun>& runs) = 0;
  virtual std::vector<StoredRun> query(const HistoryQuery& q) = 0;
  virtual int64_t count() = 0;
  virtual int schema_version() = 0;
};

// SQLite's application_id of a benchpilot store ("BPDB"). A file without it is taken only when it
// is empty or an earlier benchpilot's store (user_version and its tables), then stamped.
constexpr int64_t kStoreApplicationId = 0x42504442;

// Opens (creating or migrating) a SQLite store: WAL journal, busy timeout, so several
// benchpilot processes can write at once without losing a run. Throws Error, having changed
// nothing, for a path that is not a regular file (or absent) and for another program's database.
std::unique_ptr<ResultsStore> open_sqlite_store(const std::filesystem::path& path);

// The store used when --store is not given: <output_path>/benchpilot.db.
std::filesystem::path default_store_path(const std::filesystem::path& output_path);

}  // namespace bp
