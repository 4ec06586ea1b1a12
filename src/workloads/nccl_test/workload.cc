#include "workloads/nccl_test/workload.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "config/schema.h"
#include "config/toml_reader.h"
#include "util/files.h"
#include "util/strings.h"
#include "workloads/nccl_test/args.h"

namespace bp::nccl {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<Output> read_output(const fs::path& run_dir) {
  auto text = read_file(run_dir / kOutputFile);
  if (!text) return std::nullopt;
  return parse_output(*text);
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// CloudAI's human-readable size: 1024-based units, "1MB", "976.6KB".
std::string human_size(int64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  if (v == static_cast<double>(static_cast<int64_t>(v)))
    return std::to_string(static_cast<int64_t>(v)) + units[u];
  return fixed(v, 1) + units[u];
}

std::string wrong_text(const std::optional<int64_t>& w) {
  return w ? std::to_string(*w) : "N/A";
}

// The min_busbw of the run, from the test-run.toml the engine wrote next to the output.
std::optional<double> min_busbw_of(const fs::path& run_dir) {
  std::error_code ec;
  if (!fs::is_regular_file(run_dir / "test-run.toml", ec)) return std::nullopt;
  try {
    Value doc = read_toml_file(run_dir / "test-run.toml");
    const Value* v = doc.find_path("test_definition.cmd_args.min_busbw");
    // As the job's own check reads it (output_check, min_busbw()): "5" counts too.
    if (v && !v->is_none()) return expect_finite_number(*v, "cmd_args.min_busbw");
  } catch (const ConfigError&) {
  }
  return std::nullopt;
}

// system global_env_vars overlaid by the test's extra_env_vars (one value each for a run).
EnvVars final_env(const TestDefinition& test, const System& system) {
  EnvVars env = system.global_env_vars;
  const Value& extra = test.extra_env_vars;
  for (size_t i = 0; i < extra.size(); ++i) {
    std::string value = extra.items()[i].to_plain_string();
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const auto& kv) { return kv.first == extra.keys()[i]; });
    if (it != env.end())
      it->second = value;
    else
      env.emplace_back(extra.keys()[i], value);
  }
  return env;
}

bool is_env_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

}  // namespace

RunVerdict judge_output(const Output& out, std::optional<double> min_bw, const std::string& where) {
  if (out.nccl_failure)
    return {false, "NCCL test failure detected in " + where +
                       ". Possible reasons include network errors or remote process exits:\n" +
                       join(out.failure_lines, "\n")};
  if (out.test_failure && !out.out_of_bounds.value_or(0))
    return {false, "Test failure detected in " + where + ":\n" + join(out.failure_lines, "\n")};
  std::vector<std::string> missing;
  if (!out.out_of_bounds) missing.push_back("'# Out of bounds values'");
  if (!out.avg_busbw) missing.push_back("'# Avg bus bandwidth'");
  if (!missing.empty())
    return {false, "Missing success indicators in " + where + ": " + join(missing, ", ") +
                       ". The test did not finish; see the end of the output."};
  if (*out.out_of_bounds > 0) {
    int64_t wrong = 0;
    for (const ResultRow& r : out.rows)
      wrong += r.out_of_place.wrong.value_or(0) + r.in_place.wrong.value_or(0);
    return {false, "wrong results in " + where +
                       ": Out of bounds values : " + std::to_string(*out.out_of_bounds) + " (" +
                       std::to_string(wrong) + " wrong elements in the table)"};
  }
  if (min_bw && *out.avg_busbw < *min_bw)
    return {false, "bus bandwidth " + fixed(*out.avg_busbw, 2) + " GB/s is below min_busbw " +
                       fixed(*min_bw, 2) + " GB/s (" + where + ")"};
  return {true, ""};
}

std::string format_report(const Output& out) {
  std::string s;
  std::vector<std::string> hosts = out.hosts();
  s += "NCCL test: " + (out.program.empty() ? std::string("?") : out.program) + ", " +
       std::to_string(out.devices.size()) + " ranks on " + std::to_string(hosts.size()) +
       " node(s)" + (hosts.empty() ? "" : " (" + join(hosts, ", ") + ")") + "\n";
  if (!out.devices.empty()) s += "GPU: " + out.devices.front().name + "\n";
  if (auto peak = out.peak_row()) {
    const ResultRow& r = **peak;
    bool oop = r.out_of_place.busbw >= r.in_place.busbw;
    s += "Peak bus bandwidth: " + fixed(r.peak_busbw(), 2) + " GB/s at " + std::to_string(r.size) +
         " B (" + human_size(r.size) + ", " + (oop ? "out-of-place" : "in-place") + ")\n";
  } else {
    s += "Peak bus bandwidth: no result rows\n";
  }
  s += "Avg bus bandwidth: " + (out.avg_busbw ? fixed(*out.avg_busbw, 3) + " GB/s" : "missing") +
       "\n";
  s += "Out of bounds values: " +
       (out.out_of_bounds ? std::to_string(*out.out_of_bounds) : std::string("missing")) + "\n";
  if (out.rows.empty()) return s;
  std::vector<std::vector<std::string>> table = {{"size (B)", "size", "type", "redop",
                                                  "time oop (us)", "busbw oop (GB/s)", "#wrong oop",
                                                  "time ip (us)", "busbw ip (GB/s)", "#wrong ip"}};
  for (const ResultRow& r : out.rows)
    table.push_back({std::to_string(r.size), human_size(r.size), r.type, r.redop,
                     fixed(r.out_of_place.time_us, 2), fixed(r.out_of_place.busbw, 2),
                     wrong_text(r.out_of_place.wrong), fixed(r.in_place.time_us, 2),
                     fixed(r.in_place.busbw, 2), wrong_text(r.in_place.wrong)});
  std::vector<size_t> width(table[0].size(), 0);
  for (const auto& row : table)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  s += "\n";
  for (const auto& row : table) {
    for (size_t c = 0; c < row.size(); ++c)
      s += std::string(width[c] - row[c].size(), ' ') + row[c] + (c + 1 < row.size() ? "  " : "");
    s += "\n";
  }
  return s;
}

const WorkloadInfo& NcclTestWorkload::info() const {
  static const WorkloadInfo info = [] {
    WorkloadInfo i;
    i.name = "NcclTest";
    i.cmd_args_fields = arg_names();
    i.metric_names = {"default", "latency-in-place", "latency-out-of-place", "busbw-avg",
                      "busbw-peak"};
    i.result_columns = {{"busbw-peak", "busbw peak (GB/s)", 2, true, "GB/s"},
                        {"busbw-avg", "busbw avg (GB/s)", 2, true, "GB/s"},
                        {"latency-in-place", "time in-place (us)", 2, false, "us"}};
    i.comparison_metric = "busbw-avg";
    i.image_field = "docker_image_url";
    i.report_files = {"report.txt (the result table, peak and average bus bandwidth)",
                      std::string(kCsvReport) + " (the result table as CSV)"};
    return i;
  }();
  return info;
}

void NcclTestWorkload::validate(const TestDefinition& test) const {
  validate_args(test);
  const Value& env = test.extra_env_vars;
  for (size_t i = 0; i < env.size(); ++i)
    if (!is_env_name(env.keys()[i]))
      throw ConfigError(env.items()[i].loc(), "extra_env_vars." + env.keys()[i],
                        "expected an environment variable name (letters, digits and '_')");
}

std::vector<Installable> NcclTestWorkload::installables(const TestDefinition& test,
                                                        const System& system) const {
  (void)system;
  std::string image = docker_image(test);
  if (image.empty()) return {};
  Installable item;
  item.kind = Installable::Kind::kContainerImage;
  item.image = image;
  return {item};
}

RunSpec NcclTestWorkload::prepare(const RunContext& ctx) const {
  const TestDefinition& test = ctx.run.test;
  const fs::path dir = fs::absolute(ctx.run_dir).lexically_normal();
  std::string env_text = "# generated by benchpilot: the environment of the NCCL test\n";
  for (const auto& [key, value] : final_env(test, ctx.system))
    env_text += "export " + key + "=" + shell_quote(value) + "\n";
  write_file_atomic(dir / kEnvFile, env_text);

  RunSpec spec;
  spec.command = "source " + shell_quote((dir / kEnvFile).string()) + "; " + test_command(test);
  spec.use_mpi = !is_single_process(subtest_name(test));
  if (!spec.use_mpi) spec.srun_args.push_back("--ntasks=1");
  if (std::string image = docker_image(test); !image.empty()) {
    Installable item;
    item.kind = Installable::Kind::kContainerImage;
    item.image = image;
    spec.srun_args.push_back("--container-image=" +
                             shell_quote(installed_path(item, ctx.system).string()));
    std::vector<std::string> mounts = {
        dir.string() + ":/cloudai_run_results",
        fs::absolute(ctx.system.install_path).string() + ":/cloudai_install", dir.string()};
    for (const std::string& m : test.extra_container_mounts) mounts.push_back(m);
    spec.srun_args.push_back("--container-mounts=" + shell_quote(join(mounts, ",")));
    if (!ctx.system.container_mount_home) spec.srun_args.push_back("--no-container-mount-home");
  }
  return spec;
}

namespace {

void write_reports(const fs::path& run_dir, const Output* out) {
  if (!out) return;
  write_file_atomic(run_dir / "report.txt", format_report(*out));
  std::ostringstream csv;
  csv << "Size (B),Count,Type,Redop,Root,Time (us) Out-of-place,Algbw (GB/s) Out-of-place,"
         "Busbw (GB/s) Out-of-place,#Wrong Out-of-place,Time (us) In-place,Algbw (GB/s) "
         "In-place,Busbw (GB/s) In-place,#Wrong In-place,Size Human-readable\n";
  for (const ResultRow& r : out->rows)
    csv << r.size << "," << r.count << "," << r.type << "," << r.redop << "," << r.root << ","
        << fixed(r.out_of_place.time_us, 2) << "," << fixed(r.out_of_place.algbw, 2) << ","
        << fixed(r.out_of_place.busbw, 2) << "," << wrong_text(r.out_of_place.wrong) << ","
        << fixed(r.in_place.time_us, 2) << "," << fixed(r.in_place.algbw, 2) << ","
        << fixed(r.in_place.busbw, 2) << "," << wrong_text(r.in_place.wrong) << ","
        << human_size(r.size) << "\n";
  write_file_atomic(run_dir / kCsvReport, csv.str());
}

}  // namespace

std::vector<ReportSeries> busbw_series(const Output& out) {
  if (out.rows.empty()) return {};
  ReportSeries out_of_place{"nccl-busbw-out-of-place",
                            "Bus bandwidth, out-of-place",
                            "message size (bytes)",
                            "busbw (GB/s)",
                            true,
                            {},
                            {}};
  ReportSeries in_place{"nccl-busbw-in-place",
                        "Bus bandwidth, in-place",
                        "message size (bytes)",
                        "busbw (GB/s)",
                        true,
                        {},
                        {}};
  for (const ResultRow& r : out.rows) {
    // A log axis has no place for size 0 (nccl-tests prints it for empty collectives).
    if (r.size <= 0) continue;
    out_of_place.x.push_back(static_cast<double>(r.size));
    out_of_place.y.push_back(r.out_of_place.busbw);
    in_place.x.push_back(static_cast<double>(r.size));
    in_place.y.push_back(r.in_place.busbw);
  }
  if (out_of_place.x.empty()) return {};
  return {std::move(out_of_place), std::move(in_place)};
}

bool NcclTestWorkload::recognizes(const fs::path& run_dir) const {
  auto out = read_output(run_dir);
  return out && out->has_table_header;
}

namespace {

// "default" and "latency-in-place": mean in-place time (us), "latency-out-of-place" (as
// CloudAI); "busbw-avg": the footer's average bus bandwidth; "busbw-peak": the highest bus
// bandwidth of any size and placement (GB/s).
std::map<std::string, double> metrics_of(const Output& out) {
  std::map<std::string, double> m;
  auto put = [&](const char* name, std::optional<double> v) {
    if (v) m[name] = *v;
  };
  put("default", out.mean_time(true));
  put("latency-in-place", out.mean_time(true));
  put("latency-out-of-place", out.mean_time(false));
  put("busbw-avg", out.avg_busbw);
  if (auto peak = out.peak_row()) put("busbw-peak", (*peak)->peak_busbw());
  return m;
}

Value details_of(const std::optional<Output>& out) {
  if (!out || out->rows.empty()) return Value();
  Value doc = Value::table();
  doc.set("program", Value::string(out->program));
  doc.set("ranks", Value::integer(static_cast<int64_t>(out->devices.size())));
  Value hosts = Value::array();
  for (const std::string& h : out->hosts()) hosts.push_back(Value::string(h));
  doc.set("nodes", hosts);
  Value rows = Value::array();
  for (const ResultRow& r : out->rows) {
    Value row = Value::table();
    row.set("size", Value::integer(r.size));
    row.set("type", Value::string(r.type));
    row.set("busbw_out_of_place", Value::floating(r.out_of_place.busbw));
    row.set("busbw_in_place", Value::floating(r.in_place.busbw));
    row.set("time_out_of_place_us", Value::floating(r.out_of_place.time_us));
    row.set("time_in_place_us", Value::floating(r.in_place.time_us));
    rows.push_back(row);
  }
  doc.set("busbw_per_size", rows);
  return doc;
}

}  // namespace

RunRead NcclTestWorkload::read(const fs::path& run_dir) const {
  RunRead r;
  auto out = std::make_shared<const std::optional<Output>>(read_output(run_dir));
  if (!*out)
    r.verdict = {false, std::string(kOutputFile) +
                            " file not found in the specified output directory " +
                            run_dir.string()};
  else
    r.verdict = judge_output(**out, min_busbw_of(run_dir), (run_dir / kOutputFile).string());
  if (*out && !(*out)->failure_lines.empty())
    r.failure_details = join((*out)->failure_lines, "\n");
  else
    r.failure_details = stderr_tail(run_dir);
  if (*out) r.metrics = metrics_of(**out);
  r.details = details_of(*out);
  r.series = [out] { return *out ? busbw_series(**out) : std::vector<ReportSeries>{}; };
  r.write_reports = [run_dir, out] { write_reports(run_dir, *out ? &**out : nullptr); };
  return r;
}

std::optional<OutputCheck> NcclTestWorkload::output_check(const TestRun& run,
                                                          const std::string& output_file) const {
  const std::string& file = output_file;  // a shell word, quoted by the caller
  // The value is the first word after the colon: with NCCL_TESTS_MIN_BW set the line ends in
  // OK/FAILED, so the last field is not the number.
  const std::string value = "split($0, p, \":\"); split(p[2], w, \" \"); ";
  OutputCheck c;
  c.figure_name = "Avg bus bandwidth (GB/s)";
  c.figure = "awk '/Avg bus bandwidth/ { " + value +
             "v = w[1] } END { print (v == \"\" ? \"none\" : v) }' " + file + " 2>/dev/null";
  std::string no_failure = "! grep -qE 'Test (NCCL |CUDA )?failure' " + file + " 2>/dev/null";
  if (auto min_bw = min_busbw(run.test)) {
    std::string b = python_float(*min_bw);
    c.condition = no_failure + " && awk '/Avg bus bandwidth/ { " + value + "if (w[1] + 0 >= " + b +
                  ") found = 1 } END { exit !found }' " + file + " 2>/dev/null";
    c.requirement = "Avg bus bandwidth >= " + b + " GB/s";
  } else {
    c.condition = no_failure + " && grep -q 'Avg bus bandwidth' " + file + " 2>/dev/null";
    c.requirement = "an Avg bus bandwidth line and no failure";
  }
  return c;
}

}  // namespace bp::nccl

namespace bp {

const Workload& nccl_test_workload() {
  static const nccl::NcclTestWorkload workload;
  return workload;
}

}  // namespace bp
