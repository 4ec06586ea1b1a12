#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "store/store.h"
#include "util/error.h"
#include "util/files.h"

namespace bp {

namespace fs = std::filesystem;

namespace {

// Each entry moves the schema one version up; never edit a released entry, append a new one.
// Migrations, applied in order. The runs table's step_time and tflops columns are no longer
// written (NULL): `metrics` holds every metric of every workload.
const char* const kMigrations[] = {
    // 1: runs and their parameters.
    R"sql(
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  campaign TEXT NOT NULL, results_dir TEXT NOT NULL, run_dir TEXT NOT NULL UNIQUE,
  scenario TEXT, case_id TEXT, iteration INTEGER, step INTEGER,
  workload TEXT, model TEXT, system TEXT, gpu_type TEXT, num_gpus INTEGER,
  mbridge_commit TEXT, container_image TEXT, benchpilot_version TEXT,
  start_time TEXT, end_time TEXT, job_id TEXT, state TEXT, verdict TEXT, message TEXT,
  step_time REAL, tflops REAL, metrics TEXT);
CREATE INDEX runs_by_model ON runs(model, system, end_time);
CREATE INDEX runs_by_end ON runs(end_time);
CREATE INDEX runs_by_campaign ON runs(campaign);
CREATE TABLE param_names(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE params(run_id INTEGER NOT NULL, name_id INTEGER NOT NULL, value TEXT,
  PRIMARY KEY(run_id, name_id)) WITHOUT ROWID;
CREATE INDEX params_by_value ON params(name_id, value);
)sql",
    // 2: per-step metric samples (packed little-endian doubles), for rank tests; indexes for
    // time windows with a model or system filter.
    R"sql(
CREATE TABLE samples(run_id INTEGER NOT NULL, metric TEXT NOT NULL, data BLOB,
  PRIMARY KEY(run_id, metric)) WITHOUT ROWID;
CREATE INDEX runs_by_system ON runs(system, end_time);
CREATE INDEX runs_by_model_end ON runs(model, end_time);
)sql",
    // 3: what the estimator predicted for a run at submission (raw, with the calibration
    // factor it applied) beside what the run measured, for `estimate`'s calibration.
    R"sql(
CREATE TABLE predictions(run_id INTEGER PRIMARY KEY, estimator_version TEXT NOT NULL,
  step_time_s REAL, step_time_factor REAL NOT NULL, memory_gib REAL);
ALTER TABLE runs ADD COLUMN measured_step_time_s REAL;
ALTER TABLE runs ADD COLUMN max_allocated_gib REAL;
ALTER TABLE runs ADD COLUMN max_reserved_gib REAL;
)sql",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// The tables the migrations up to `version` create (read from their CREATE TABLE statements).
std::set<std::string> tables_of_version(int version) {
  std::set<std::string> out;
  const std::string create = "CREATE TABLE ";
  for (int v = 0; v < version; ++v) {
    const std::string sql = kMigrations[v];
    for (size_t at = sql.find(create); at != std::string::npos; at = sql.find(create, at + 1)) {
      const size_t begin = at + create.size();
      out.insert(sql.substr(begin, sql.find('(', begin) - begin));
    }
  }
  return out;
}

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      throw Error(std::string("SQLite: ") + sqlite3_errmsg(db) + " in: " + sql);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind_double(int i, std::optional<double> v) {
    if (v)
      sqlite3_bind_double(s_, i, *v);
    else
      sqlite3_bind_null(s_, i);
    return *this;
  }
  Stmt& bind_blob(int i, const void* data, size_t n) {
    sqlite3_bind_blob(s_, i, data, static_cast<int>(n), SQLITE_TRANSIENT);
    return *this;
  }
  // True while a row is available.
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw Error(std::string("SQLite: ") + sqlite3_errmsg(db_));
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string text(int c) const {
    const unsigned char* t = sqlite3_column_text(s_, c);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  int64_t integer(int c) const { return sqlite3_column_int64(s_, c); }
  bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  double real(int c) const { return sqlite3_column_double(s_, c); }
  std::vector<double> doubles(int c) const {
    const void* p = sqlite3_column_blob(s_, c);
    size_t n = static_cast<size_t>(sqlite3_column_bytes(s_, c)) / sizeof(double);
    std::vector<double> out(n);
    if (n) std::memcpy(out.data(), p, n * sizeof(double));
    return out;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

// Binds the columns of the runs INSERT in record(), in its order.
void bind_run_row(Stmt& ins, const StoredRun& r) {
  nlohmann::json metrics(r.metrics);
  int col = 0;
  auto text = [&](const std::string& v) { ins.bind(++col, v); };
  auto integer = [&](int64_t v) { ins.bind(++col, v); };
  text(r.campaign);
  text(r.results_dir);
  text(r.run_dir);
  text(r.scenario);
  text(r.case_id);
  integer(r.iteration);
  integer(r.step);
  text(r.workload);
  text(r.model);
  text(r.system);
  text(r.gpu_type);
  integer(r.num_gpus);
  text(r.mbridge_commit);
  text(r.container_image);
  text(r.benchpilot_version);
  text(r.start_time);
  text(r.end_time);
  text(r.job_id);
  text(r.state);
  text(r.verdict);
  text(r.message);
  text(metrics.dump());
  ins.bind_double(++col, r.measured_step_time_s);
  ins.bind_double(++col, r.max_allocated_gib);
  ins.bind_double(++col, r.max_reserved_gib);
}

// One row of the runs table (with its prediction), columns in the order query() selects them.
StoredRun run_of_row(const Stmt& s) {
  StoredRun r;
  int c = 0;
  r.id = s.integer(c++);
  r.campaign = s.text(c++);
  r.results_dir = s.text(c++);
  r.run_dir = s.text(c++);
  r.scenario = s.text(c++);
  r.case_id = s.text(c++);
  r.iteration = static_cast<int>(s.integer(c++));
  r.step = static_cast<int>(s.integer(c++));
  r.workload = s.text(c++);
  r.model = s.text(c++);
  r.system = s.text(c++);
  r.gpu_type = s.text(c++);
  r.num_gpus = static_cast<int>(s.integer(c++));
  r.mbridge_commit = s.text(c++);
  r.container_image = s.text(c++);
  r.benchpilot_version = s.text(c++);
  r.start_time = s.text(c++);
  r.end_time = s.text(c++);
  r.job_id = s.text(c++);
  r.state = s.text(c++);
  r.verdict = s.text(c++);
  r.message = s.text(c++);
  std::string metrics = s.text(c++);
  if (!metrics.empty()) {
    const nlohmann::json parsed = nlohmann::json::parse(metrics);
    for (const auto& [k, v] : parsed.items()) r.metrics[k] = v.get<double>();
  }
  auto real = [&](int column) {
    return s.is_null(column) ? std::nullopt : std::optional(s.real(column));
  };
  r.measured_step_time_s = real(c++);
  r.max_allocated_gib = real(c++);
  r.max_reserved_gib = real(c++);
  if (!s.is_null(c)) {
    r.prediction = StoredRun::Prediction{s.text(c), real(c + 1), s.real(c + 2), real(c + 3)};
  }
  return r;
}

class SqliteStore : public ResultsStore {
 public:
  explicit SqliteStore(const fs::path& path) : path_(path) {
    require_regular_or_absent(path, "results store");  // SQLite opens it in place
    if (!path.parent_path().empty()) fs::create_directories(path.parent_path());
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      std::string err = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw Error("cannot open the results store " + path.string() + ": " + err);
    }
    try {
      // Writers wait for each other instead of failing; WAL lets readers go on meanwhile.
      sqlite3_busy_timeout(db_, 30000);
      refuse_foreign();  // before anything writes: the WAL pragma changes the file
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=NORMAL");
      migrate();
    } catch (...) {
      sqlite3_close(db_);  // the destructor does not run for a constructor that throws
      throw;
    }
  }
  ~SqliteStore() override { sqlite3_close(db_); }

  int schema_version() override {
    Stmt s(db_, "PRAGMA user_version");
    s.step();
    return static_cast<int>(s.integer(0));
  }

  int64_t count() override {
    Stmt s(db_, "SELECT count(*) FROM runs");
    s.step();
    return s.integer(0);
  }

  void record(const std::vector<StoredRun>& runs) override {
    if (runs.empty()) return;
    begin_immediate();
    try {
      Stmt find(db_, "SELECT id FROM runs WHERE run_dir = ?");
      Stmt del_params(db_, "DELETE FROM params WHERE run_id = ?");
      Stmt del_samples(db_, "DELETE FROM samples WHERE run_id = ?");
      Stmt del_prediction(db_, "DELETE FROM predictions WHERE run_id = ?");
      Stmt del_run(db_, "DELETE FROM runs WHERE id = ?");
      Stmt ins(db_,
               "INSERT INTO runs(campaign, results_dir, run_dir, scenario, case_id, iteration, "
               "step, workload, model, system, gpu_type, num_gpus, mbridge_commit, "
               "container_image, benchpilot_version, start_time, end_time, job_id, state, "
               "verdict, message, metrics, measured_step_time_s, max_allocated_gib, "
               "max_reserved_gib) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      Stmt ins_prediction(db_,
                          "INSERT INTO predictions(run_id, estimator_version, step_time_s, "
                          "step_time_factor, memory_gib) VALUES (?,?,?,?,?)");
      Stmt ins_param(db_, "INSERT OR REPLACE INTO params(run_id, name_id, value) VALUES (?,?,?)");
      Stmt ins_sample(db_, "INSERT OR REPLACE INTO samples(run_id, metric, data) VALUES (?,?,?)");
      for (const StoredRun& r : runs) {
        find.bind(1, r.run_dir);
        if (find.step()) {
          int64_t old = find.integer(0);
          for (Stmt* d : {&del_params, &del_samples, &del_prediction, &del_run}) {
            d->bind(1, old);
            d->step();
            d->reset();
          }
        }
        find.reset();
        bind_run_row(ins, r);
        ins.step();
        ins.reset();
        const int64_t id = sqlite3_last_insert_rowid(db_);
        if (const auto& p = r.prediction) {
          ins_prediction.bind(1, id).bind(2, p->estimator_version).bind_double(3, p->step_time_s);
          ins_prediction.bind_double(4, p->step_time_factor).bind_double(5, p->memory_gib);
          ins_prediction.step();
          ins_prediction.reset();
        }
        for (const auto& [k, v] : r.params) {
          ins_param.bind(1, id).bind(2, name_id(k, true)).bind(3, v);
          ins_param.step();
          ins_param.reset();
        }
        for (const auto& [m, values] : r.samples) {
          ins_sample.bind(1, id).bind(2, m).bind_blob(3, values.data(),
                                                      values.size() * sizeof(double));
          ins_sample.step();
          ins_sample.reset();
        }
      }
      exec("COMMIT");
    } catch (...) {
      name_ids_.clear();  // ids given inside the rolled-back transaction are gone
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  std::vector<StoredRun> query(const HistoryQuery& q) override {
    std::string sql =
        "SELECT id, campaign, results_dir, run_dir, scenario, case_id, iteration, step, "
        "workload, model, system, gpu_type, num_gpus, mbridge_commit, container_image, "
        "benchpilot_version, start_time, end_time, job_id, state, verdict, message, metrics, "
        "measured_step_time_s, max_allocated_gib, max_reserved_gib, pr.estimator_version, "
        "pr.step_time_s, pr.step_time_factor, pr.memory_gib "
        "FROM runs r LEFT JOIN predictions pr ON pr.run_id = r.id WHERE 1";
    std::vector<std::string> binds;
    auto eq = [&](const char* col, const std::string& v) {
      if (v.empty()) return;
      sql += std::string(" AND ") + col + " = ?";
      binds.push_back(v);
    };
    eq("model", q.model);
    eq("system", q.system);
    eq("workload", q.workload);
    if (!q.campaign.empty()) {
      sql += " AND (campaign = ? OR results_dir = ?)";
      binds.push_back(q.campaign);
      binds.push_back(q.campaign);
    }
    if (!q.since.empty()) {
      sql += " AND end_time >= ?";
      binds.push_back(q.since);
    }
    if (!q.until.empty()) {
      sql += " AND end_time < ?";
      binds.push_back(q.until);
    }
    if (q.passed_only) sql += " AND verdict = 'PASSED'";
    for (const auto& [k, v] : q.params) {
      const int64_t id = name_id(k, false);
      if (id == 0) return {};  // no run ever had this parameter
      sql += " AND EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.name_id = " +
             std::to_string(id) + " AND p.value = ?)";
      binds.push_back(v);
    }
    sql += " ORDER BY end_time DESC, id DESC";
    if (q.limit > 0) sql += " LIMIT " + std::to_string(q.limit);
    Stmt s(db_, sql);
    for (size_t i = 0; i < binds.size(); ++i) s.bind(static_cast<int>(i + 1), binds[i]);
    std::vector<StoredRun> out;
    while (s.step()) out.push_back(run_of_row(s));
    add_params_and_samples(out);
    return out;
  }

 private:
  // Each run's parameters (by name) and metric samples, read from their own tables.
  void add_params_and_samples(std::vector<StoredRun>& out) {
    Stmt params(db_,
                "SELECT n.name, p.value FROM params p JOIN param_names n ON n.id = p.name_id "
                "WHERE p.run_id = ? ORDER BY n.name");
    Stmt samples(db_, "SELECT metric, data FROM samples WHERE run_id = ?");
    for (StoredRun& r : out) {
      params.bind(1, r.id);
      while (params.step()) r.params.emplace_back(params.text(0), params.text(1));
      params.reset();
      samples.bind(1, r.id);
      while (samples.step()) r.samples[samples.text(0)] = samples.doubles(1);
      samples.reset();
    }
  }

  // The id of a parameter name (names are stored once); 0 when unknown and create is false.
  int64_t name_id(const std::string& name, bool create) {
    if (auto it = name_ids_.find(name); it != name_ids_.end()) return it->second;
    if (create) {
      Stmt ins(db_, "INSERT OR IGNORE INTO param_names(name) VALUES (?)");
      ins.bind(1, name);
      ins.step();
    }
    Stmt find(db_, "SELECT id FROM param_names WHERE name = ?");
    find.bind(1, name);
    if (!find.step()) return 0;
    return name_ids_[name] = find.integer(0);
  }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw Error("results store " + path_.string() + ": " + msg);
    }
  }

  // BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so two
  // writers never deadlock upgrading a read transaction.
  void begin_immediate() {
    for (int attempt = 0;; ++attempt) {
      int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
      if (rc == SQLITE_OK) return;
      if (rc != SQLITE_BUSY || attempt >= 10)
        throw Error("results store " + path_.string() + ": " + sqlite3_errmsg(db_));
      std::this_thread::sleep_for(std::chrono::milliseconds(50 << std::min(attempt, 5)));
    }
  }

  int64_t pragma(const std::string& name) {
    try {
      Stmt s(db_, "PRAGMA " + name);
      s.step();
      return s.integer(0);
    } catch (const Error&) {  // "file is not a database", said with the path
      throw Error("results store " + path_.string() + ": " + sqlite3_errmsg(db_));
    }
  }

  // Throws, having written nothing, unless the file is benchpilot's store (its application_id),
  // one made by an earlier benchpilot (no application_id yet; its user_version and that
  // version's tables) or an empty database. migrate() then stamps or initialises it.
  void refuse_foreign() {
    const int64_t app_id = pragma("application_id");
    if (app_id == kStoreApplicationId) return;
    const int64_t version = pragma("user_version");
    std::set<std::string> tables;
    {
      Stmt s(db_,
             "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
      while (s.step()) tables.insert(s.text(0));
    }
    if (app_id == 0 && version == 0 && tables.empty()) return;
    if (app_id == 0 && version >= 1 && version <= kSchemaVersion) {
      const std::set<std::string> want = tables_of_version(static_cast<int>(version));
      if (std::includes(tables.begin(), tables.end(), want.begin(), want.end())) return;
    }
    std::string names;
    for (const std::string& t : tables) names += (names.empty() ? "" : ", ") + t;
    char id[16];
    std::snprintf(id, sizeof id, "0x%08llx", static_cast<unsigned long long>(app_id) & 0xffffffffu);
    throw Error("results store " + path_.string() +
                " is a SQLite database of another program (application_id " + id +
                ", user_version " + std::to_string(version) +
                ", tables: " + (names.empty() ? "none" : names) +
                "); it was left untouched. Name another file with --store");
  }

  void migrate() {
    begin_immediate();
    try {
      if (pragma("application_id") != kStoreApplicationId)
        exec("PRAGMA application_id = " + std::to_string(kStoreApplicationId));
      int version = schema_version();
      if (version > kSchemaVersion)
        throw Error("results store " + path_.string() + " has schema version " +
                    std::to_string(version) + ", newer than this benchpilot's " +
                    std::to_string(kSchemaVersion) + "; upgrade benchpilot");
      for (int v = version; v < kSchemaVersion; ++v) exec(kMigrations[v]);
      if (version != kSchemaVersion)
        exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  fs::path path_;
  sqlite3* db_ = nullptr;
  std::map<std::string, int64_t> name_ids_;  // ids never change once given
};

}  // namespace

std::unique_ptr<ResultsStore> open_sqlite_store(const fs::path& path) {
  return std::make_unique<SqliteStore>(path);
}

fs::path default_store_path(const fs::path& output_path) {
  return output_path / "benchpilot.db";
}

}  // namespace bp
