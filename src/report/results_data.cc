#include "report/results_data.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "config/toml_reader.h"
#include "core/run_folder.h"
#include "core/run_status.h"
#include "core/workload.h"
#include "util/files.h"
#include "util/log.h"
#include "util/numbers.h"
#include "util/strings.h"

namespace bp {
namespace fs = std::filesystem;

namespace {

// CSV cells and repr tokens: blanks around a number are allowed (util/numbers.h otherwise).
std::optional<double> to_double(std::string_view s) {
  return parse_whole_double(trim(s));
}
std::optional<int64_t> to_int(std::string_view s) {
  return parse_whole_int(trim(s));
}

std::optional<Value> read_toml_quietly(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  try {
    return read_toml_file(file);
  } catch (const std::exception& e) {
    log::debug("cannot read " + file.string() + ": " + e.what());
    return std::nullopt;
  }
}

}  // namespace

std::vector<std::vector<std::string>> read_csv_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<TrajectoryRow> read_trajectory(const fs::path& case_dir) {
  std::vector<TrajectoryRow> out;
  auto rows = read_csv_file(case_dir / "trajectory.csv");
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.size() < 4) continue;
    auto step = to_int(r[0]);
    auto reward = to_double(r[2]);
    if (!step || !reward) continue;
    out.push_back({static_cast<int>(*step), r[1], *reward, r[3]});
  }
  return out;
}

std::vector<std::pair<std::string, Value>> parse_action(std::string_view repr) {
  std::vector<std::pair<std::string, Value>> out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < repr.size() && repr[i] == ' ') ++i;
  };
  // A Python str literal ('...' or "...") starting at i; nullopt when there is none.
  auto quoted = [&]() -> std::optional<std::string> {
    if (i >= repr.size() || (repr[i] != '\'' && repr[i] != '"')) return std::nullopt;
    char q = repr[i++];
    std::string s;
    while (i < repr.size() && repr[i] != q) {
      if (repr[i] == '\\' && i + 1 < repr.size()) {
        char e = repr[++i];
        s += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        s += repr[i];
      }
      ++i;
    }
    if (i >= repr.size()) return std::nullopt;
    ++i;
    return s;
  };
  skip_space();
  if (i >= repr.size() || repr[i] != '{') return {};
  ++i;
  for (;;) {
    skip_space();
    if (i < repr.size() && repr[i] == '}') return out;
    auto key = quoted();
    skip_space();
    if (!key || i >= repr.size() || repr[i] != ':') return {};
    ++i;
    skip_space();
    Value v;
    if (auto s = quoted()) {
      v = Value::string(*s);
    } else {
      size_t end = repr.find_first_of(",}", i);
      if (end == std::string_view::npos) return {};
      std::string token(trim(repr.substr(i, end - i)));
      i = end;
      if (token == "True" || token == "False") {
        v = Value::boolean(token == "True");
      } else if (auto n = to_int(token)) {
        v = Value::integer(*n);
      } else if (auto d = to_double(token)) {
        v = Value::floating(*d);
      } else {
        v = Value::string(token);
      }
    }
    out.emplace_back(*key, std::move(v));
    skip_space();
    if (i < repr.size() && repr[i] == ',')
      ++i;
    else if (i >= repr.size() || repr[i] != '}')
      return {};
  }
}

void fill_params_from_trajectories(std::vector<RunRecord>& records) {
  std::map<fs::path, std::map<int, std::string>> actions;  // case dir -> step -> action
  for (RunRecord& r : records) {
    if (r.step <= 0 || !r.params.empty()) continue;
    fs::path dir = r.run_dir.parent_path();
    auto it = actions.find(dir);
    if (it == actions.end()) {
      std::map<int, std::string> steps;
      for (const TrajectoryRow& t : read_trajectory(dir)) steps[t.step] = t.action;
      it = actions.emplace(dir, std::move(steps)).first;
    }
    if (auto a = it->second.find(r.step); a != it->second.end()) r.params = parse_action(a->second);
  }
}

std::vector<PrunedPoint> read_pruned(const fs::path& case_dir) {
  std::vector<PrunedPoint> out;
  auto rows = read_csv_file(case_dir / "pruned.csv");
  if (rows.empty()) return out;
  const auto& header = rows[0];
  if (header.size() < 3) return out;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.size() != header.size()) continue;
    PrunedPoint p;
    p.step = to_int(r[0]).value_or(0);
    std::vector<std::string> values;
    for (size_t c = 1; c + 2 < r.size(); ++c) {
      values.push_back(header[c] + "=" + r[c]);
      p.params.emplace_back(header[c], r[c]);
    }
    p.values = join(values, " ");
    for (const std::string& id : split(r[r.size() - 2], ';'))
      if (!trim(id).empty()) p.rule_ids.emplace_back(trim(id));
    p.messages = r.back();
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<PrunedRule> group_pruned(const std::vector<PrunedPoint>& points, size_t examples) {
  std::vector<PrunedRule> rules;
  for (const PrunedPoint& p : points) {
    for (const std::string& id : p.rule_ids) {
      auto it =
          std::find_if(rules.begin(), rules.end(), [&](const PrunedRule& r) { return r.id == id; });
      if (it == rules.end()) {
        rules.push_back({id, 0, {}});
        it = rules.end() - 1;
      }
      ++it->count;
      if (it->examples.size() < examples)
        it->examples.push_back("step " + std::to_string(p.step) + ": " + p.values + ": " +
                               p.messages);
    }
  }
  std::stable_sort(rules.begin(), rules.end(),
                   [](const PrunedRule& a, const PrunedRule& b) { return a.count > b.count; });
  return rules;
}

std::string failure_text(const RunRecord& r) {
  if (r.passed || run_status(r) == RunStatus::kDryRun) return {};
  if (!trim(r.message).empty()) return r.message;
  std::string text = "job " + (r.job_id.empty() ? std::string("(no id)") : r.job_id) + " ended " +
                     (r.state.empty() ? std::string("?") : r.state);
  if (const Workload* w = workload_of_run_folder(r.run_dir)) {
    std::string details = w->read(r.run_dir).failure_details;
    if (!trim(details).empty()) text += "\n" + details;
  }
  return text;
}

std::optional<double> job_elapsed_seconds(const fs::path& run_dir) {
  auto doc = read_toml_quietly(run_dir / "slurm-job.toml");
  if (!doc) return std::nullopt;
  const Value* v = doc->find("elapsed_time_sec");
  if (!v || !v->is_number()) return std::nullopt;
  return v->as_double();
}

std::optional<int64_t> run_gpus(const fs::path& run_dir, std::optional<int64_t> gpus_per_node) {
  std::optional<RunFolderFacts> facts;
  try {
    facts = read_run_folder_facts(run_dir);
  } catch (const std::exception&) {  // a damaged description: the GPUs are unknown
  }
  if (!facts) return std::nullopt;
  const Workload* w = workload_of_run_folder(run_dir, &*facts);
  if (!w) return std::nullopt;
  return gpus_of_run(*w, facts->test_run, gpus_per_node);
}

std::vector<fs::path> run_files(const fs::path& run_dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::directory_iterator(run_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path());
  }
  auto rank = [](const fs::path& p) {
    std::string n = p.filename().string();
    if (n.ends_with(".log") || n == "stdout.txt" || n == "stderr.txt") return 0;
    if (n == "report.txt" || n.ends_with(".json")) return 1;
    if (n == "test-run.toml" || n == "slurm-job.toml") return 2;
    return 3;  // generated scripts and the like: reachable through the run folder link
  };
  std::erase_if(files, [&](const fs::path& p) { return rank(p) > 2; });
  std::sort(files.begin(), files.end(), [&](const fs::path& a, const fs::path& b) {
    return std::make_pair(rank(a), a.filename()) < std::make_pair(rank(b), b.filename());
  });
  return files;
}

std::string url_path(const fs::path& relative) {
  std::string out;
  for (unsigned char c : relative.generic_string()) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '_' || c == '~' || c == '/' || c == '-') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace bp
