#include "report/junit.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "core/run_label.h"
#include "core/run_status.h"
#include "report/results_data.h"
#include "util/files.h"
#include "util/strings.h"

namespace bp {
namespace fs = std::filesystem;

namespace {

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

std::string first_line(const std::string& s) {
  size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

std::string params_text(const RunRecord& r) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : r.params) parts.push_back(k + "=" + v.to_plain_string());
  return join(parts, " ");
}

struct Case {
  std::string xml;
  double time = 0;
  bool failed = false, skipped = false;
};

struct Suite {
  std::string name;
  std::vector<Case> cases;
};

// A run's <testcase>: skipped for a dry run, failed for a failed or skipped run (a skip is a
// failed pre-test), with the run folder, job, state and metrics as its output.
Case run_case(const fs::path& root, const std::string& scen, const RunRecord& r) {
  Case c;
  c.time = job_elapsed_seconds(r).value_or(0);
  std::string name = run_label(r);
  if (std::string p = params_text(r); !p.empty()) name += " " + p;
  c.xml = "    <testcase name=\"" + markup_escape(name) + "\" classname=\"" +
          markup_escape(scen + "." + r.case_id) + "\" time=\"" + seconds(c.time) + "\"";
  const RunStatus status = run_status(r);
  std::error_code ec;
  fs::path rel = fs::relative(r.run_dir, root, ec);
  std::string out_text = "run folder: " + (ec ? r.run_dir.string() : rel.string()) +
                         "\njob: " + (r.job_id.empty() ? "-" : r.job_id) + "\nstate: " + r.state;
  for (const auto& [k, v] : r.metrics) out_text += "\n" + k + ": " + python_float(v);
  if (status == RunStatus::kDryRun) {
    c.skipped = true;
    c.xml += ">\n      <skipped message=\"dry-run: generated, not submitted\"/>\n";
  } else if (counts_as_failed(status)) {
    c.failed = true;
    std::string msg = failure_text(r);
    c.xml += ">\n      <failure message=\"" + markup_escape(first_line(msg)) + "\" type=\"" +
             markup_escape(r.state) + "\">" + markup_escape(msg) + "</failure>\n";
  } else {
    c.xml += ">\n";
  }
  c.xml += "      <system-out>" + markup_escape(out_text) + "</system-out>\n    </testcase>\n";
  return c;
}

// A sweep's suite ("case/iteration") and the case dir whose pruned.csv it reports.
struct SweepSuite {
  std::string case_id;
  int iteration = 0;
  fs::path dir;
};

// A pruned sweep point as a skipped <testcase> naming the rules that pruned it.
Case pruned_case(const std::string& scen, const SweepSuite& sweep, const PrunedPoint& p) {
  Case c;
  c.skipped = true;
  std::string name = bp::run_label(sweep.case_id, sweep.iteration, p.step) + " " + p.values;
  c.xml = "    <testcase name=\"" + markup_escape(name) + "\" classname=\"" +
          markup_escape(scen + "." + sweep.case_id) +
          "\" time=\"0.000\">\n      <skipped message=\"" +
          markup_escape("pruned by " + join(p.rule_ids, ", ") + ": " + p.messages) +
          "\"/>\n    </testcase>\n";
  return c;
}

// The <testsuites> document: each suite with its counts and time, then the totals.
std::string format_suites(const std::string& scen, const std::vector<Suite>& suites) {
  size_t tests = 0, failures = 0, skipped = 0;
  double time = 0;
  std::string body;
  for (const Suite& s : suites) {
    size_t f = 0, k = 0;
    double t = 0;
    for (const Case& c : s.cases) {
      f += c.failed;
      k += c.skipped;
      t += c.time;
    }
    tests += s.cases.size();
    failures += f;
    skipped += k;
    time += t;
    body += "  <testsuite name=\"" + markup_escape(s.name) + "\" tests=\"" +
            std::to_string(s.cases.size()) + "\" failures=\"" + std::to_string(f) +
            "\" errors=\"0\" skipped=\"" + std::to_string(k) + "\" time=\"" + seconds(t) + "\">\n";
    for (const Case& c : s.cases) body += c.xml;
    body += "  </testsuite>\n";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" + markup_escape(scen) +
         "\" tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) +
         "\" errors=\"0\" skipped=\"" + std::to_string(skipped) + "\" time=\"" + seconds(time) +
         "\">\n" + body + "</testsuites>\n";
}

}  // namespace

std::string format_junit(const fs::path& root, const std::string& scenario_name,
                         const std::vector<RunRecord>& records) {
  std::vector<const RunRecord*> runs;
  for (const RunRecord& r : records) runs.push_back(&r);
  std::stable_sort(runs.begin(), runs.end(), [](const RunRecord* a, const RunRecord* b) {
    return std::tie(a->case_id, a->iteration, a->step) <
           std::tie(b->case_id, b->iteration, b->step);
  });
  std::vector<Suite> suites;
  std::map<std::string, SweepSuite> sweep_dirs;  // by suite name
  auto suite_for = [&](const std::string& name) -> Suite& {
    for (Suite& s : suites)
      if (s.name == name) return s;
    suites.push_back({name, {}});
    return suites.back();
  };
  const std::string scen = scenario_name.empty() ? root.filename().string() : scenario_name;
  for (const RunRecord* r : runs) {
    std::string suite_name = r->case_id;
    if (r->step > 0) {
      suite_name += "/" + std::to_string(r->iteration);
      sweep_dirs.emplace(suite_name,
                         SweepSuite{r->case_id, r->iteration, r->run_dir.parent_path()});
    }
    suite_for(suite_name).cases.push_back(run_case(root, scen, *r));
  }
  for (const auto& [suite_name, sweep] : sweep_dirs)
    for (const PrunedPoint& p : read_pruned(sweep.dir))
      suite_for(suite_name).cases.push_back(pruned_case(scen, sweep, p));
  return format_suites(scen, suites);
}

void write_junit_report(const std::string& user_file, const fs::path& root,
                        const std::string& scenario_name, const std::vector<RunRecord>& records) {
  const std::string xml = format_junit(root, scenario_name, records);
  if (user_file.empty()) {
    write_file_atomic_or_warn(root / "results.xml", xml);
    return;
  }
  const fs::path file(user_file);
  std::error_code ec;
  if (file.has_parent_path()) fs::create_directories(file.parent_path(), ec);
  write_user_output(file, xml);
}

}  // namespace bp
