#include "core/estimate.h"

#include <fmt/format.h>

#include "config/toml_reader.h"
#include "core/system.h"
#include "util/files.h"

namespace bp {

std::optional<OomRule> parse_oom_rule(std::string_view text) {
  if (text == "prune") return OomRule::kPrune;
  if (text == "warn") return OomRule::kWarn;
  if (text == "off") return OomRule::kOff;
  return std::nullopt;
}

MemoryVerdict judge_memory(double total_gib, double gpu_gib, OomRule rule) {
  MemoryVerdict v;
  if (rule == OomRule::kOff || gpu_gib <= 0) return v;
  v.over = total_gib > kOomPruneAbove * gpu_gib;
  v.near_limit = !v.over && total_gib >= kNearLimitFrom * gpu_gib;
  v.fits = !(v.over && rule == OomRule::kPrune);
  // A clear case that only warns is still near (beyond) the limit for the reader.
  if (v.over && rule == OomRule::kWarn) v.near_limit = true;
  return v;
}

std::string describe_memory(const MemoryEstimate& m, double gpu_gib) {
  return fmt::format(
      "needs {:.1f} GiB of {:.1f} GiB: weights {:.1f}, gradients {:.1f}, optimizer {:.1f}, "
      "activations {:.1f}, other {:.1f}",
      m.total(), gpu_gib, m.weights, m.gradients, m.optimizer, m.activations, m.other);
}

namespace {

// estimate.toml: top-level figures, [params] as the point's resolved configuration, and
// [memory_gib] (with [memory_gib.other] naming the parts of `other`). An absent figure is an
// absent key: TOML has no null.
void set_opt(Value& t, const char* key, std::optional<double> v) {
  if (v) t.set(key, Value::floating(*v));
}

std::optional<double> get_opt(const Value& t, const char* key) {
  const Value* v = t.find(key);
  if (!v || !(v->is_int() || v->is_float())) return std::nullopt;
  return v->as_double();
}

Value memory_table(const MemoryEstimate& m) {
  Value t = Value::table();
  t.set("weights", Value::floating(m.weights));
  t.set("gradients", Value::floating(m.gradients));
  t.set("optimizer", Value::floating(m.optimizer));
  t.set("activations", Value::floating(m.activations));
  t.set("other", Value::floating(m.other));
  t.set("total", Value::floating(m.total()));
  Value parts = Value::table();
  for (const auto& [name, gib] : m.details) parts.set(name, Value::floating(gib));
  if (!m.details.empty()) t.set("other_parts", std::move(parts));
  return t;
}

MemoryEstimate memory_of(const Value& t) {
  MemoryEstimate m;
  m.weights = get_opt(t, "weights").value_or(0);
  m.gradients = get_opt(t, "gradients").value_or(0);
  m.optimizer = get_opt(t, "optimizer").value_or(0);
  m.activations = get_opt(t, "activations").value_or(0);
  m.other = get_opt(t, "other").value_or(0);
  if (const Value* parts = t.find("other_parts"); parts && parts->is_table()) {
    for (size_t i = 0; i < parts->items().size(); ++i) {
      const Value& v = parts->items()[i];
      if (v.is_int() || v.is_float()) m.details.emplace_back(parts->keys()[i], v.as_double());
    }
  }
  return m;
}

}  // namespace

void write_frozen_estimate(const std::filesystem::path& run_dir, const FrozenEstimate& f) {
  const Estimate& e = f.estimate;
  Value doc = Value::table();
  doc.set("estimator_version", Value::string(e.estimator_version));
  doc.set("step_time_factor", Value::floating(f.step_time_factor));
  set_opt(doc, "model_flops_per_token", e.model_flops_per_token);
  set_opt(doc, "step_time_s", e.step_time_s);
  set_opt(doc, "tflops_per_gpu", e.tflops_per_gpu);
  set_opt(doc, "tokens_per_s_per_gpu", e.tokens_per_s_per_gpu);
  set_opt(doc, "gpu_memory_gib", e.gpu_memory_gib);
  Value params = Value::table();
  for (const auto& [k, v] : e.params) params.set(k, v);
  doc.set("params", std::move(params));
  if (e.memory) doc.set("memory_gib", memory_table(*e.memory));
  write_file_atomic(run_dir / kFrozenEstimateFile, to_toml_document(doc));
}

void freeze_estimate(const Estimator& estimator, const TestRun& point, const System& system,
                     const std::filesystem::path& run_dir,
                     const std::vector<Observation>& calibration_runs) {
  FrozenEstimate f;
  f.estimate = estimator.estimate(point, system);
  const Estimate& e = f.estimate;
  f.step_time_factor = SystemCalibration(calibration_runs, system.name)
                           .factor(e.estimator_version, e.gpu_type, e.model)
                           .value;
  write_frozen_estimate(run_dir, f);
}

std::optional<FrozenEstimate> read_frozen_estimate(const std::filesystem::path& run_dir) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(run_dir / kFrozenEstimateFile, ec)) return std::nullopt;
  Value doc;
  try {
    doc = read_toml_file(run_dir / kFrozenEstimateFile);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  FrozenEstimate f;
  Estimate& e = f.estimate;
  if (const Value* v = doc.find("estimator_version"); v && v->is_string()) {
    e.estimator_version = v->as_string();
  }
  f.step_time_factor = get_opt(doc, "step_time_factor").value_or(1.0);
  e.model_flops_per_token = get_opt(doc, "model_flops_per_token");
  e.step_time_s = get_opt(doc, "step_time_s");
  e.tflops_per_gpu = get_opt(doc, "tflops_per_gpu");
  e.tokens_per_s_per_gpu = get_opt(doc, "tokens_per_s_per_gpu");
  e.gpu_memory_gib = get_opt(doc, "gpu_memory_gib");
  if (const Value* p = doc.find("params"); p && p->is_table()) {
    for (size_t i = 0; i < p->items().size(); ++i)
      e.params.emplace_back(p->keys()[i], p->items()[i]);
  }
  if (const Value* m = doc.find("memory_gib"); m && m->is_table()) e.memory = memory_of(*m);
  return f;
}

}  // namespace bp
