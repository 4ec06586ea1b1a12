#include "workloads/megatron_bridge/training_report.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "config/toml_reader.h"
#include "util/exact_stats.h"
#include "util/log.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/metrics.h"
#include "workloads/megatron_bridge/report.h"

namespace bp::mbridge {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  return v;
}

// "key: value" fields of a `|`-separated log line.
std::map<std::string, std::string_view, std::less<>> fields_of(std::string_view line) {
  std::map<std::string, std::string_view, std::less<>> out;
  size_t start = 0;
  while (start < line.size()) {
    size_t bar = line.find('|', start);
    std::string_view piece = line.substr(start, bar == std::string_view::npos ? bar : bar - start);
    size_t colon = piece.rfind(": ");
    if (colon != std::string_view::npos)
      out.emplace(std::string(trim(piece.substr(0, colon))), trim(piece.substr(colon + 2)));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return out;
}

// The N of "iteration N/M" (spaces allowed around the numbers), if the line is an iteration line.
std::optional<int64_t> iteration_of(std::string_view line) {
  size_t pos = 0;
  while ((pos = line.find("iteration", pos)) != std::string_view::npos) {
    size_t i = pos + 9;
    pos = i;
    while (i < line.size() && line[i] == ' ') ++i;
    size_t digits = i;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
    if (i == digits || i >= line.size() || line[i] != '/') continue;
    int64_t n = 0;
    std::from_chars(line.data() + digits, line.data() + i, n);
    return n;
  }
  return std::nullopt;
}

// The K of "(after K iterations) memory (GB)".
std::optional<int64_t> memory_iteration_of(std::string_view line) {
  if (line.find("memory (GB)") == std::string_view::npos) return std::nullopt;
  size_t after = line.find("(after ");
  if (after == std::string_view::npos) return std::nullopt;
  int64_t k = 0;
  const char* b = line.data() + after + 7;
  auto [p, ec] = std::from_chars(b, line.data() + line.size(), k);
  if (ec != std::errc()) return std::nullopt;
  return k;
}

class StepParser {
 public:
  void feed(std::string_view line) {
    if (auto sample = parse_step_line(line)) {
      pending_tflops_ = sample->tflops_per_gpu;
      return;
    }
    if (auto k = memory_iteration_of(line)) {
      auto f = fields_of(line);
      Memory& m = memory_[*k];
      if (auto it = f.find("mem-allocated-gigabytes"); it != f.end())
        if (auto v = parse_number(it->second)) m.allocated = std::max(m.allocated.value_or(0), *v);
      if (auto it = f.find("mem-reserved-gigabytes"); it != f.end())
        if (auto v = parse_number(it->second)) m.reserved = std::max(m.reserved.value_or(0), *v);
      return;
    }
    auto iteration = iteration_of(line);
    if (!iteration) return;
    auto f = fields_of(line);
    auto elapsed = f.find("elapsed time per iteration (ms)");
    if (elapsed == f.end()) return;
    auto ms = parse_number(elapsed->second);
    if (!ms) return;
    TrainingStep s;
    s.iteration = *iteration;
    s.step_time_sec = *ms / 1000.0;
    if (auto it = f.find("lm loss"); it != f.end()) s.loss = parse_number(it->second);
    if (auto it = f.find("grad norm"); it != f.end()) s.grad_norm = parse_number(it->second);
    if (auto it = f.find("throughput per GPU (TFLOP/s/GPU)"); it != f.end())
      s.tflops_per_gpu = parse_number(it->second);
    if (!s.tflops_per_gpu) s.tflops_per_gpu = pending_tflops_;
    pending_tflops_.reset();
    steps_[s.iteration] = s;  // a relaunched attempt's line replaces the earlier one
  }

  std::vector<TrainingStep> steps() const {
    std::vector<TrainingStep> out;
    for (auto [it, s] : steps_) {
      auto m = memory_.upper_bound(it);  // latest reading at or before this iteration
      if (m != memory_.begin()) {
        --m;
        if (m->second.reserved) s.memory_reserved_bytes = *m->second.reserved * 1e9;
        if (m->second.allocated) s.memory_allocated_bytes = *m->second.allocated * 1e9;
      }
      out.push_back(s);
    }
    return out;
  }

 private:
  struct Memory {
    std::optional<double> allocated, reserved;
  };
  std::map<int64_t, TrainingStep> steps_;
  std::map<int64_t, Memory> memory_;
  std::optional<double> pending_tflops_;
};

std::optional<std::vector<TrainingStep>> read_training_steps(const fs::path& log) {
  std::ifstream in(log, std::ios::binary);
  if (!in) return std::nullopt;
  StepParser parser;
  std::string line;
  while (std::getline(in, line)) {
    // \r-separated progress output stays one line here; each piece is checked.
    for (std::string_view piece : split(line, '\r')) parser.feed(piece);
  }
  return parser.steps();
}

Json stats_json(const std::vector<TrainingStep>& steps,
                std::optional<double> TrainingStep::*field) {
  std::vector<double> values;
  for (const TrainingStep& s : steps)
    if (s.*field) values.push_back(*(s.*field));
  auto st = metric_stats(values);
  if (!st) return nullptr;
  return Json{{"mean", st->mean}, {"min", st->min}, {"max", st->max},
              {"std", st->std},   {"t99", st->t99}, {"t95", st->t95}};
}

Json optional_json(const std::optional<double>& v) {
  return v ? Json(*v) : Json(nullptr);
}

// A YAML scalar as JSON: booleans, integers, floats and null as such (plain scalars only),
// everything else a string.
Json yaml_scalar(const YAML::Node& n) {
  if (!n || n.IsNull()) return nullptr;
  if (!n.IsScalar()) return nullptr;
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted: a string whatever it looks like
  if (s == "true" || s == "True") return true;
  if (s == "false" || s == "False") return false;
  if (s == "null" || s == "~" || s == "None") return nullptr;
  int64_t i = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc() && p == s.data() + s.size()) return i;
  double d = 0;
  auto [q, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec2 == std::errc() && q == s.data() + s.size()) return d;
  return s;
}

Json yaml_path(const YAML::Node& root, std::string_view path) {
  // Lookups go through const nodes (a non-const operator[] would add the key) and reset()
  // rebinds (assignment would overwrite the node's value in the tree).
  YAML::Node n;
  n.reset(root);
  for (const std::string& part : split(path, '.')) {
    const YAML::Node parent = n;
    if (!parent.IsMap()) return nullptr;
    const YAML::Node child = parent[part];
    if (!child) return nullptr;
    n.reset(child);
  }
  return yaml_scalar(n);
}

std::optional<fs::path> find_config_container(const fs::path& run_dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(run_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.filename() == "ConfigContainer.yaml" && p.parent_path().filename() == "configs")
      found.push_back(p);
  }
  if (found.empty()) return std::nullopt;
  std::sort(found.begin(), found.end());
  return found.front();
}

const Value* test_value(const std::optional<Value>& doc, std::string_view path) {
  return doc ? doc->find_path(path) : nullptr;
}

Json value_json(const Value* v) {
  if (!v) return nullptr;
  if (v->is_bool()) return v->as_bool();
  if (v->is_int()) return v->as_int();
  if (v->is_float()) return v->as_double();
  if (v->is_string()) return v->as_string();
  return nullptr;
}

std::optional<int64_t> int_of(const Value* v) {
  if (v && v->is_int()) return v->as_int();
  return std::nullopt;
}

}  // namespace

std::vector<TrainingStep> parse_training_steps(std::string_view log_text) {
  StepParser parser;
  size_t start = 0;
  for (size_t i = 0; i <= log_text.size(); ++i) {
    if (i < log_text.size() && log_text[i] != '\n' && log_text[i] != '\r') continue;
    parser.feed(log_text.substr(start, i - start));
    start = i + 1;
  }
  return parser.steps();
}

std::vector<TrainingStep> filter_steps(const std::vector<TrainingStep>& steps,
                                       const StepWindow& window) {
  std::vector<TrainingStep> out;
  const size_t skip = static_cast<size_t>(std::max<int64_t>(0, window.exclude_start_steps));
  for (size_t i = skip; i < steps.size(); ++i) {
    const TrainingStep& s = steps[i];
    if (window.profiling_enabled && window.profiling_start_step && window.profiling_stop_step &&
        s.iteration >= *window.profiling_start_step &&
        s.iteration <= *window.profiling_stop_step + window.exclude_post_profiling_steps)
      continue;
    out.push_back(s);
  }
  return out;
}

std::optional<MetricStats> metric_stats(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  MetricStats st;
  st.mean = exact_mean(values);
  st.min = sorted.front();
  st.max = sorted.back();
  st.std = exact_pstdev(values);
  auto quantile = [&](int p) {
    if (sorted.size() == 1) return sorted.front();
    const size_t m = sorted.size() - 1;
    const size_t j = static_cast<size_t>(p) * m / 100, delta = static_cast<size_t>(p) * m % 100;
    return (sorted[j] * static_cast<double>(100 - delta) +
            sorted[j + 1] * static_cast<double>(delta)) /
           100.0;
  };
  st.t99 = quantile(99);
  st.t95 = quantile(95);
  return st;
}

std::optional<std::string> format_training_report(const fs::path& run_dir) {
  auto log = find_launcher_log(run_dir);
  if (!log) return std::nullopt;
  auto steps = read_training_steps(*log);
  if (!steps || steps->empty()) return std::nullopt;

  std::optional<Value> test;
  try {
    if (fs::exists(run_dir / "test-run.toml")) test = read_toml_file(run_dir / "test-run.toml");
  } catch (const std::exception& e) {
    log::warn("training report: cannot read " + (run_dir / "test-run.toml").string() + ": " +
              e.what());
  }
  YAML::Node cfg;
  if (auto path = find_config_container(run_dir)) {
    try {
      cfg = YAML::LoadFile(path->string());
      if (!cfg.IsMap()) {
        log::warn("training report: " + path->string() + " is not a YAML mapping");
        cfg = YAML::Node();
      }
    } catch (const std::exception& e) {
      log::warn("training report: invalid config artifact at " + path->string() + ": " + e.what());
      cfg = YAML::Node();
    }
  } else {
    log::warn("training report: config artifact not found under " + run_dir.string() +
              " (**/configs/ConfigContainer.yaml); configuration fields are null");
  }
  auto model = [&](std::string_view key) { return yaml_path(cfg, "model." + std::string(key)); };

  StepWindow window;
  if (auto v = int_of(test_value(test, "test_definition.training_report.exclude_start_steps")))
    window.exclude_start_steps = *v;
  if (auto v =
          int_of(test_value(test, "test_definition.training_report.exclude_post_profiling_steps")))
    window.exclude_post_profiling_steps = *v;
  if (const Value* v = test_value(test, "test_definition.cmd_args.enable_nsys"); v && v->is_bool())
    window.profiling_enabled = v->as_bool();
  window.profiling_start_step =
      int_of(test_value(test, "test_definition.cmd_args.profiling_start_step"));
  window.profiling_stop_step =
      int_of(test_value(test, "test_definition.cmd_args.profiling_stop_step"));

  Json world = value_json(test_value(test, "test_definition.cmd_args.num_gpus"));
  Json dp = nullptr;
  {
    Json tp = model("tensor_model_parallel_size"), pp = model("pipeline_model_parallel_size"),
         cp = model("context_parallel_size");
    if (world.is_number_integer() && tp.is_number_integer()) {
      int64_t div = tp.get<int64_t>() * (pp.is_number_integer() ? pp.get<int64_t>() : 1) *
                    (cp.is_number_integer() ? cp.get<int64_t>() : 1);
      if (div > 0 && world.get<int64_t>() % div == 0)
        dp = world.get<int64_t>() / div;
      else
        log::warn("training report: world size " + world.dump() + " is not divisible by tp*pp*cp");
    }
  }

  Json config = {
      {"micro_batch_size", yaml_path(cfg, "train.micro_batch_size")},
      {"global_batch_size", yaml_path(cfg, "train.global_batch_size")},
      {"seq_length", model("seq_length")},
      {"tensor_parallel_size", model("tensor_model_parallel_size")},
      {"pipeline_parallel_size", model("pipeline_model_parallel_size")},
      {"context_parallel_size", model("context_parallel_size")},
      {"virtual_pipeline_parallel_size", model("virtual_pipeline_model_parallel_size")},
      {"sequence_parallel", model("sequence_parallel")},
      {"expert_parallel_size", model("expert_model_parallel_size")},
      {"data_parallel_size", dp},
      {"num_layers", model("num_layers")},
      {"hidden_size", model("hidden_size")},
      {"num_attention_heads", model("num_attention_heads")},
      {"num_query_groups", model("num_query_groups")},
      {"ffn_hidden_size", model("ffn_hidden_size")},
      {"kv_channels", model("kv_channels")},
      {"normalization", model("normalization")},
      {"position_embedding_type", model("position_embedding_type")},
      {"model_name", value_json(test_value(test, "test_definition.cmd_args.model_recipe_name"))},
      {"num_experts", model("num_moe_experts")},
      {"moe_router_topk", model("moe_router_topk")},
      {"moe_ffn_hidden_size", model("moe_ffn_hidden_size")},
      {"moe_grouped_gemm", model("moe_grouped_gemm")},
      {"world_size", world},
      {"num_nodes", value_json(test_value(test, "nnodes"))},
      {"profiling_enabled", window.profiling_enabled},
      {"profiling_start_step", nullptr},  // set below: integers, not floats
      {"profiling_stop_step", nullptr},
      {"exclude_start_steps", window.exclude_start_steps},
      {"exclude_post_profiling_steps", window.exclude_post_profiling_steps},
      {"test_template_name", "MegatronBridge"}};
  config["profiling_start_step"] =
      window.profiling_start_step ? Json(*window.profiling_start_step) : Json(nullptr);
  config["profiling_stop_step"] =
      window.profiling_stop_step ? Json(*window.profiling_stop_step) : Json(nullptr);

  Json step_list = Json::array();
  for (const TrainingStep& s : *steps)
    step_list.push_back({{"iteration", s.iteration},
                         {"step_time_sec", s.step_time_sec},
                         {"loss", optional_json(s.loss)},
                         {"memory_reserved_bytes", optional_json(s.memory_reserved_bytes)},
                         {"memory_allocated_bytes", optional_json(s.memory_allocated_bytes)},
                         {"tflops_per_gpu", optional_json(s.tflops_per_gpu)},
                         {"grad_norm", optional_json(s.grad_norm)}});

  std::vector<TrainingStep> kept = filter_steps(*steps, window);
  Json aggregation = nullptr;
  if (!kept.empty()) {
    std::vector<double> times;
    for (const TrainingStep& s : kept) times.push_back(s.step_time_sec);
    auto st = *metric_stats(times);
    aggregation = {
        {"step_time_sec",
         {{"mean", st.mean},
          {"min", st.min},
          {"max", st.max},
          {"std", st.std},
          {"t99", st.t99},
          {"t95", st.t95}}},
        {"loss", stats_json(kept, &TrainingStep::loss)},
        {"memory_reserved_bytes", stats_json(kept, &TrainingStep::memory_reserved_bytes)},
        {"memory_allocated_bytes", stats_json(kept, &TrainingStep::memory_allocated_bytes)},
        {"tflops_per_gpu", stats_json(kept, &TrainingStep::tflops_per_gpu)},
        {"grad_norm", stats_json(kept, &TrainingStep::grad_norm)}};
  }
  Json doc = {{"config", config}, {"steps", step_list}, {"aggregation", aggregation}};
  return doc.dump(2) + "\n";
}

void write_training_report(const fs::path& run_dir) {
  std::optional<std::string> text;
  try {
    text = format_training_report(run_dir);
  } catch (const std::exception& e) {
    log::warn("training report for " + run_dir.string() + " failed: " + e.what());
    return;
  }
  if (!text) return;
  const fs::path file = run_dir / "training_report.json";
  const fs::path tmp = run_dir / "training_report.json.tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << *text;
    if (!out) {
      log::warn("cannot write " + tmp.string());
      return;
    }
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) log::warn("cannot write " + file.string() + ": " + ec.message());
  log::debug("Generated training report at " + file.string());
}

std::vector<ReportSeries> mbridge_report_series(const fs::path& run_dir) {
  std::vector<ReportSeries> out;
  auto log = find_launcher_log(run_dir);
  if (!log) return out;
  if (auto samples = read_all_steps(*log); samples && !samples->empty()) {
    ReportSeries time{"step-time", "Step time per step", "step", "step time (s)", false, {}, {}};
    ReportSeries tflops{
        "tflops-per-gpu", "TFLOP/s/GPU per step", "step", "TFLOP/s/GPU", false, {}, {}};
    for (size_t i = 0; i < samples->size(); ++i) {
      time.x.push_back(static_cast<double>(i + 1));
      time.y.push_back((*samples)[i].step_time_s);
      tflops.x.push_back(static_cast<double>(i + 1));
      tflops.y.push_back((*samples)[i].tflops_per_gpu);
    }
    out.push_back(std::move(time));
    out.push_back(std::move(tflops));
  }
  if (auto steps = read_training_steps(*log)) {
    ReportSeries loss{"lm-loss", "lm loss per iteration", "iteration", "lm loss", false, {}, {}};
    for (const TrainingStep& s : *steps)
      if (s.loss) {
        loss.x.push_back(static_cast<double>(s.iteration));
        loss.y.push_back(*s.loss);
      }
    if (!loss.x.empty()) out.push_back(std::move(loss));
  }
  return out;
}

}  // namespace bp::mbridge
