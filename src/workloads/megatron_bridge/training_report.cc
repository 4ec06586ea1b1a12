#include "workloads/megatron_bridge/training_report.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "config/toml_reader.h"
#include "util/error.h"
#include "util/exact_stats.h"
#include "util/files.h"
#include "util/log.h"
#include "util/numbers.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/launcher_log.h"
#include "workloads/megatron_bridge/metrics.h"
#include "workloads/megatron_bridge/report.h"

namespace bp::mbridge {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

Json stats_json(const std::vector<double>& values) {
  auto st = metric_stats(values);
  if (!st) return nullptr;
  return Json{{"mean", st->mean}, {"min", st->min}, {"max", st->max},
              {"std", st->std},   {"t99", st->t99}, {"t95", st->t95}};
}

// Whether the step at `index` (in iteration order) counts for the aggregation: the one rule
// behind filter_steps() and the report.
bool step_kept(size_t index, int64_t iteration, const StepWindow& window) {
  if (index < static_cast<size_t>(std::max<int64_t>(0, window.exclude_start_steps))) return false;
  return !(window.profiling_enabled && window.profiling_start_step && window.profiling_stop_step &&
           iteration >= *window.profiling_start_step &&
           iteration <= *window.profiling_stop_step + window.exclude_post_profiling_steps);
}

TrainingStep training_step(const LauncherLogRead& read, const IterationLine& line) {
  TrainingStep s;
  s.iteration = line.iteration;
  s.step_time_sec = line.step_time_sec;
  if (line.present & IterationLine::kLoss) s.loss = line.loss;
  if (line.present & IterationLine::kTflops) s.tflops_per_gpu = line.tflops_per_gpu;
  if (line.present & IterationLine::kGradNorm) s.grad_norm = line.grad_norm;
  if (const MemoryReading* m = read.memory_at(line.iteration)) {
    if (m->reserved_gb) s.memory_reserved_bytes = *m->reserved_gb * 1e9;
    if (m->allocated_gb) s.memory_allocated_bytes = *m->allocated_gb * 1e9;
  }
  return s;
}

// A number as nlohmann's dump() writes it (shortest round-trip digits; null when not finite),
// so the streamed steps read exactly like a dumped document.
void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[64];
  char* end = nlohmann::detail::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(end - buf));
}

// Formats the elements of "steps" as dump(2) indents them inside the document. A column's
// number is formatted again only when it changes (memory readings repeat on every step).
class StepJsonWriter {
 public:
  void append(std::string& out, const TrainingStep& s) {
    out += std::string_view("    {\n      \"iteration\": ");
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, s.iteration);
    out.append(buf, end);
    out += std::string_view(",\n");
    const std::optional<double> values[] = {s.step_time_sec,         s.loss,
                                            s.memory_reserved_bytes, s.memory_allocated_bytes,
                                            s.tflops_per_gpu,        s.grad_norm};
    for (size_t i = 0; i < std::size(values); ++i) {
      Column& c = columns_[i];
      out += c.prefix;
      if (!values[i]) {
        out += std::string_view("null");
      } else {
        uint64_t bits = 0;
        std::memcpy(&bits, &*values[i], sizeof bits);
        if (!c.formatted || bits != c.bits) {
          c.text.clear();
          append_json_number(c.text, *values[i]);
          c.bits = bits;
          c.formatted = true;
        }
        out += c.text;
      }
      out += std::string_view(i + 1 < std::size(values) ? ",\n" : "\n");
    }
    out += std::string_view("    }");
  }

 private:
  struct Column {
    std::string_view prefix;  // the indented key
    bool formatted = false;
    uint64_t bits = 0;
    std::string text;
  };
  Column columns_[6] = {
      {"      \"step_time_sec\": "},         {"      \"loss\": "},
      {"      \"memory_reserved_bytes\": "}, {"      \"memory_allocated_bytes\": "},
      {"      \"tflops_per_gpu\": "},        {"      \"grad_norm\": "}};
};

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
  if (std::optional<int64_t> i = parse_whole_int(s)) return *i;
  if (std::optional<double> d = parse_whole_double(s)) return *d;
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

// Scalars only, anything else null (the config block names one value per key): not
// report/value_json.h, which a plug-in cannot include and which would render a date as text.
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
  LauncherLogRead read = parse_launcher_log(log_text);
  std::vector<TrainingStep> out;
  for (const IterationLine& line : read.iterations) out.push_back(training_step(read, line));
  return out;
}

std::vector<TrainingStep> filter_steps(const std::vector<TrainingStep>& steps,
                                       const StepWindow& window) {
  std::vector<TrainingStep> out;
  for (size_t i = 0; i < steps.size(); ++i)
    if (step_kept(i, steps[i].iteration, window)) out.push_back(steps[i]);
  return out;
}

std::optional<MetricStats> metric_stats(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  MetricStats st;
  st.mean = exact_mean(values);
  st.std = exact_pstdev(values);
  std::vector<double> work = values;
  const bool finite =
      std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
  // Finite values have one order, so selecting the two neighbours of each quantile gives what
  // sorting gives, in linear time (a long run has a million steps); otherwise sort as before.
  if (!finite) std::sort(work.begin(), work.end());
  auto [lo, hi] = std::minmax_element(work.begin(), work.end());
  st.min = finite ? *lo : work.front();
  st.max = finite ? *hi : work.back();
  auto quantile = [&](int p) {
    if (work.size() == 1) return work.front();
    const size_t m = work.size() - 1;
    const size_t j = static_cast<size_t>(p) * m / 100, delta = static_cast<size_t>(p) * m % 100;
    double a = work[j], b = work[j + 1];
    if (finite) {
      std::nth_element(work.begin(), work.begin() + static_cast<ptrdiff_t>(j), work.end());
      a = work[j];
      b = *std::min_element(work.begin() + static_cast<ptrdiff_t>(j) + 1, work.end());
    }
    return (a * static_cast<double>(100 - delta) + b * static_cast<double>(delta)) / 100.0;
  };
  st.t99 = quantile(99);
  st.t95 = quantile(95);
  return st;
}

namespace {

std::optional<Value> read_test_run(const fs::path& run_dir) {
  try {
    if (fs::exists(run_dir / "test-run.toml")) return read_toml_file(run_dir / "test-run.toml");
  } catch (const std::exception& e) {
    log::warn("training report: cannot read " + (run_dir / "test-run.toml").string() + ": " +
              e.what());
  }
  return std::nullopt;
}

YAML::Node read_config_container(const fs::path& run_dir) {
  auto path = find_config_container(run_dir);
  if (!path) {
    log::warn("training report: config artifact not found under " + run_dir.string() +
              " (**/configs/ConfigContainer.yaml); configuration fields are null");
    return YAML::Node();
  }
  try {
    YAML::Node cfg = YAML::LoadFile(path->string());
    if (cfg.IsMap()) return cfg;
    log::warn("training report: " + path->string() + " is not a YAML mapping");
  } catch (const std::exception& e) {
    log::warn("training report: invalid config artifact at " + path->string() + ": " + e.what());
  }
  return YAML::Node();
}

StepWindow step_window(const std::optional<Value>& test) {
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
  return window;
}

// world_size / (tp * pp * cp) when that divides; null otherwise.
Json data_parallel_size(const Json& world, const Json& tp, const Json& pp, const Json& cp) {
  if (!world.is_number_integer() || !tp.is_number_integer()) return nullptr;
  int64_t div = tp.get<int64_t>() * (pp.is_number_integer() ? pp.get<int64_t>() : 1) *
                (cp.is_number_integer() ? cp.get<int64_t>() : 1);
  if (div > 0 && world.get<int64_t>() % div == 0) return world.get<int64_t>() / div;
  log::warn("training report: world size " + world.dump() + " is not divisible by tp*pp*cp");
  return nullptr;
}

Json config_json(const std::optional<Value>& test, const YAML::Node& cfg,
                 const StepWindow& window) {
  auto model = [&](std::string_view key) { return yaml_path(cfg, "model." + std::string(key)); };
  Json world = value_json(test_value(test, "test_definition.cmd_args.num_gpus"));
  auto optional_int = [](const std::optional<int64_t>& v) { return v ? Json(*v) : Json(nullptr); };
  return {
      {"micro_batch_size", yaml_path(cfg, "train.micro_batch_size")},
      {"global_batch_size", yaml_path(cfg, "train.global_batch_size")},
      {"seq_length", model("seq_length")},
      {"tensor_parallel_size", model("tensor_model_parallel_size")},
      {"pipeline_parallel_size", model("pipeline_model_parallel_size")},
      {"context_parallel_size", model("context_parallel_size")},
      {"virtual_pipeline_parallel_size", model("virtual_pipeline_model_parallel_size")},
      {"sequence_parallel", model("sequence_parallel")},
      {"expert_parallel_size", model("expert_model_parallel_size")},
      {"data_parallel_size",
       data_parallel_size(world, model("tensor_model_parallel_size"),
                          model("pipeline_model_parallel_size"), model("context_parallel_size"))},
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
      {"profiling_start_step", optional_int(window.profiling_start_step)},
      {"profiling_stop_step", optional_int(window.profiling_stop_step)},
      {"exclude_start_steps", window.exclude_start_steps},
      {"exclude_post_profiling_steps", window.exclude_post_profiling_steps},
      {"test_template_name", "MegatronBridge"}};
}

// Statistics of each step field over the kept steps; one field's values at a time, so memory
// stays one double per step.
Json aggregation_json(const LauncherLogRead& read, const StepWindow& window) {
  auto values_of = [&](auto&& field) {
    std::vector<double> values;
    values.reserve(read.iterations.size());
    for (size_t i = 0; i < read.iterations.size(); ++i) {
      const IterationLine& line = read.iterations[i];
      if (!step_kept(i, line.iteration, window)) continue;
      if (std::optional<double> v = field(training_step(read, line))) values.push_back(*v);
    }
    return values;
  };
  Json step_time = stats_json(
      values_of([](const TrainingStep& s) { return std::optional<double>(s.step_time_sec); }));
  if (step_time.is_null()) return nullptr;  // no kept steps
  return {{"step_time_sec", step_time},
          {"loss", stats_json(values_of([](const TrainingStep& s) { return s.loss; }))},
          {"memory_reserved_bytes",
           stats_json(values_of([](const TrainingStep& s) { return s.memory_reserved_bytes; }))},
          {"memory_allocated_bytes",
           stats_json(values_of([](const TrainingStep& s) { return s.memory_allocated_bytes; }))},
          {"tflops_per_gpu",
           stats_json(values_of([](const TrainingStep& s) { return s.tflops_per_gpu; }))},
          {"grad_norm", stats_json(values_of([](const TrainingStep& s) { return s.grad_norm; }))}};
}

using TextSink = std::function<void(std::string_view)>;

// Writes training_report.json's text to `out` in pieces: the document as dump(2) writes it,
// with the steps (a million lines for a long run) formatted one by one into its empty array.
void emit_training_report(const fs::path& run_dir, const LauncherLogRead& read,
                          const TextSink& out) {
  std::optional<Value> test = read_test_run(run_dir);
  const StepWindow window = step_window(test);
  Json doc = {{"config", config_json(test, read_config_container(run_dir), window)},
              {"steps", Json::array()},
              {"aggregation", aggregation_json(read, window)}};
  const std::string text = doc.dump(2) + "\n";
  // Only the top-level key sits at two spaces after a newline (strings cannot hold one).
  constexpr std::string_view kEmptySteps = "\n  \"steps\": [";
  const size_t at = text.find(std::string(kEmptySteps) + "]");
  const size_t open_end = at + kEmptySteps.size();
  out(std::string_view(text).substr(0, open_end));
  std::string buf;
  StepJsonWriter steps;
  for (size_t i = 0; i < read.iterations.size(); ++i) {
    buf += std::string_view(i ? ",\n" : "\n");
    steps.append(buf, training_step(read, read.iterations[i]));
    if (buf.size() >= kDefaultChunkBytes) {
      out(buf);
      buf.clear();
    }
  }
  buf += "\n  ";
  out(buf);
  out(std::string_view(text).substr(open_end));
}

std::shared_ptr<const LauncherLogRead> training_log_of(const fs::path& run_dir) {
  auto log = find_launcher_log(run_dir);
  if (!log) return nullptr;
  auto read = launcher_log_read(*log);
  if (!read || read->iterations.empty()) return nullptr;
  return read;
}

}  // namespace

std::optional<std::string> format_training_report(const fs::path& run_dir) {
  auto read = training_log_of(run_dir);
  if (!read) return std::nullopt;
  std::string text;
  emit_training_report(run_dir, *read, [&](std::string_view piece) { text += piece; });
  return text;
}

void write_training_report(const fs::path& run_dir) {
  if (auto read = training_log_of(run_dir)) write_training_report(run_dir, *read);
}

void write_training_report(const fs::path& run_dir, const LauncherLogRead& read) {
  if (read.iterations.empty()) return;
  const fs::path file = run_dir / "training_report.json";
  try {
    AtomicFileWriter out(file);
    emit_training_report(run_dir, read, [&](std::string_view piece) { out.write(piece); });
    // Not synced: the report is the launcher log's, written again by generate-report.
    out.commit(AtomicFileWriter::Sync::kNone);
  } catch (const std::exception& e) {
    log::warn("training report for " + run_dir.string() + " failed: " + e.what());
    return;
  }
  log::debug("Generated training report at " + file.string());
}

std::vector<ReportSeries> mbridge_report_series(const fs::path& run_dir) {
  auto log = find_launcher_log(run_dir);
  auto read = log ? launcher_log_read(*log) : nullptr;
  return read ? mbridge_report_series(*read) : std::vector<ReportSeries>{};
}

std::vector<ReportSeries> mbridge_report_series(const LauncherLogRead& parsed) {
  std::vector<ReportSeries> out;
  const LauncherLogRead* read = &parsed;
  if (!read->samples.empty()) {
    ReportSeries time{"step-time", "Step time per step", "step", "step time (s)", false, {}, {}};
    ReportSeries tflops{
        "tflops-per-gpu", "TFLOP/s/GPU per step", "step", "TFLOP/s/GPU", false, {}, {}};
    for (std::vector<double>* v : {&time.x, &time.y, &tflops.x, &tflops.y})
      v->reserve(read->samples.size());
    for (size_t i = 0; i < read->samples.size(); ++i) {
      time.x.push_back(static_cast<double>(i + 1));
      time.y.push_back(read->samples[i].step_time_s);
      tflops.x.push_back(static_cast<double>(i + 1));
      tflops.y.push_back(read->samples[i].tflops_per_gpu);
    }
    out.push_back(std::move(time));
    out.push_back(std::move(tflops));
  }
  ReportSeries loss{"lm-loss", "lm loss per iteration", "iteration", "lm loss", false, {}, {}};
  for (const IterationLine& s : read->iterations)
    if (s.present & IterationLine::kLoss) {
      loss.x.push_back(static_cast<double>(s.iteration));
      loss.y.push_back(s.loss);
    }
  if (!loss.x.empty()) out.push_back(std::move(loss));
  return out;
}

}  // namespace bp::mbridge
