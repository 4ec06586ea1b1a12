#include "workloads/megatron_bridge/estimator.h"

#include "core/scenario.h"
#include "core/system.h"
#include "sweep/param_space.h"
#include "workloads/megatron_bridge/args.h"
#include "workloads/megatron_bridge/constraints.h"
#include "workloads/megatron_bridge/model_flops.h"
#include "workloads/megatron_bridge/pinned_release.h"
#include "workloads/megatron_bridge/report.h"
#include "workloads/megatron_bridge/step_time_model.h"

namespace bp {

namespace {

// Frozen with every prediction (Estimate::estimator_version). Raise the number whenever the
// formulas or constants of memory_model, step_time_model or model_flops change what they
// predict: calibration compares only predictions of one version with what was measured.
// 2: the memory model counts what the performance recipes run (bf16 gradients, MLA, saved
// tensors per layer, the recipes' offload, FSDP and recompute).
// 3: memory of hybrid (Mamba) models; the recipes' ep and recompute for GPT-OSS 120B, Kimi K2
// and Nemotron 3 (the step-time model is unchanged, but runs calibrate within one version).
constexpr const char* kEstimatorVersion = "megatron_bridge/3";

// cmd_args as the launcher receives them (written value, else the schema's default).
Value emitted(const TestRun& point, const char* field) {
  const Value* v = written_or_default(*mbridge::find_arg(field), point.test.cmd_args);
  return v ? *v : Value();
}

// The resolved configuration, keyed as trajectory.csv keys cmd_args; null where unknown.
std::vector<std::pair<std::string, Value>> params_of(const TestRun& point, const MemoryPoint& m) {
  std::vector<std::pair<std::string, Value>> p;
  auto num = [](std::optional<int64_t> v) { return v ? Value::integer(*v) : Value(); };
  const mbridge::MemoryInputs* in = m.inputs ? &*m.inputs : nullptr;
  auto field = [&](int64_t mbridge::MemoryInputs::*f) {
    return in ? std::optional<int64_t>(in->*f) : std::nullopt;
  };
  p.emplace_back("model_recipe_name", emitted(point, "model_recipe_name"));
  p.emplace_back("num_gpus", num(field(&mbridge::MemoryInputs::num_gpus)));
  p.emplace_back("gpu_type", emitted(point, "gpu_type"));
  p.emplace_back("compute_dtype", emitted(point, "compute_dtype"));
  p.emplace_back("tp", num(field(&mbridge::MemoryInputs::tp)));
  p.emplace_back("pp", num(field(&mbridge::MemoryInputs::pp)));
  p.emplace_back("cp", num(field(&mbridge::MemoryInputs::cp)));
  p.emplace_back("vp", num(field(&mbridge::MemoryInputs::vp)));
  p.emplace_back("ep", num(field(&mbridge::MemoryInputs::ep)));
  std::optional<int64_t> et = field(&mbridge::MemoryInputs::etp);
  if (et && *et == 0) et = in->tp;  // Megatron's default
  p.emplace_back("et", num(et));
  p.emplace_back("mb", num(field(&mbridge::MemoryInputs::mb)));
  p.emplace_back("gb", Value(emitted(point, "gb")));
  std::optional<int64_t> seq;
  if (in && m.shape) seq = in->seq_length > 0 ? in->seq_length : m.shape->seq_length;
  p.emplace_back("seq_length", num(seq));
  for (const char* f : {"recompute_modules", "recompute_num_layers", "activation_offload_layers",
                        "use_megatron_fsdp", "cuda_graph_impl", "cuda_graph_scope"})
    p.emplace_back(f, emitted(point, f));
  return p;
}

// Megatron-Bridge before v0.5 counted gated units and windows differently; the pinned release
// decides (an unknown pin counts as today's).
FlopsRules flops_rules_of(const TestRun& point) {
  return mbridge::pinned_era(point.test) == mbridge::RecipeEra::kV0_3 ? FlopsRules::kBefore0_5
                                                                      : FlopsRules::kFrom0_5;
}

// FLOPs per token, step time and throughput of the point, where the shape and layout allow.
void estimate_speed(const TestRun& point, const MemoryPoint& m, Estimate& e) {
  if (!m.shape || !m.inputs) return;
  const mbridge::MemoryInputs& in = *m.inputs;
  const Value gpu = emitted(point, "gpu_type"), dtype = emitted(point, "compute_dtype");
  StepTimeInput st;
  st.tp = in.tp, st.pp = in.pp, st.cp = in.cp, st.vp = in.vp, st.ep = in.ep, st.etp = in.etp;
  st.mbs = in.mb, st.gbs = in.gb, st.seq_length = in.seq_length, st.num_gpus = in.num_gpus;
  st.gpu_type = gpu.is_string() ? gpu.as_string() : std::string_view();
  st.compute_dtype = dtype.is_string() ? dtype.as_string() : std::string_view();
  st.flops_rules = flops_rules_of(point);
  FlopsSettings fs;
  fs.seq_length = in.seq_length;
  fs.tp = in.tp;
  fs.rules = st.flops_rules;
  e.model_flops_per_token = model_flops_per_token(*m.shape, fs);
  if (in.gb <= 0) return;  // no global batch: no step
  if (std::optional<StepTimeEstimate> t = estimate_step_time(*m.shape, st)) {
    e.step_time_s = t->step_time_s;
    e.tflops_per_gpu = t->tflops_per_gpu;
    e.tokens_per_s_per_gpu = t->tokens_per_s_per_gpu;
  }
}

// Seconds from a job's start to its first training iteration's end beyond one step: the
// container starting (pyxis/enroot, image already on the node), torch.distributed and NCCL
// initialisation, building the model, the distributed optimizer and the mock dataset, and the
// first iteration's kernel compilation and CUDA-graph capture (Megatron-Bridge logs step 1
// apart for that reason). No measured figure is published for the performance recipes; 5
// minutes is an assumption of a few minutes for a multi-node job, kept round so that nobody
// mistakes it for a measurement. It matters for short benchmark runs (the launcher's
// 10-step default) and not for long ones.
constexpr double kStartupSeconds = 300;

// The training iterations the launcher runs: -ms, written or the schema's default (args.cc).
std::optional<int64_t> train_steps_of(const TestRun& point) {
  const Value steps = emitted(point, "max_steps");
  if (steps.is_int() && steps.as_int() > 0) return steps.as_int();
  return std::nullopt;
}

// Everything but the memory point, which the caller resolves (once per case or per point).
Estimate estimate_with(const TestRun& point, const MemoryPoint& m) {
  Estimate e;
  e.estimator_version = kEstimatorVersion;
  e.model = mbridge::stored_model_name(point.test.cmd_args);
  e.gpu_type = mbridge::stored_gpu_type(point.test.cmd_args);
  e.params = params_of(point, m);
  e.memory = m.memory;
  e.gpu_memory_gib = m.gpu_gib;
  estimate_speed(point, m, e);
  e.train_steps = train_steps_of(point);
  e.startup_s = kStartupSeconds;
  return e;
}

// The points of one case: the memory rule compiled once, each point's other fields applied.
class MegatronBridgeCaseEstimator : public CaseEstimator {
 public:
  MegatronBridgeCaseEstimator(const TestRun& run, const System& system)
      : run_(run), space_(ParamSpace::of(run)), memory_(run, &system, ModelCatalog::global()) {}

  Estimate at(const std::vector<uint32_t>& indices) override {
    const MemoryPoint m = memory_.at(indices);
    return estimate_with(space_.is_sweep() ? apply_indices(run_, space_, indices) : run_, m);
  }

 private:
  const TestRun& run_;
  ParamSpace space_;
  MemoryPoints memory_;
};

class MegatronBridgeEstimator : public Estimator {
 public:
  Estimate estimate(const TestRun& point, const System& system) const override {
    return estimate_megatron_bridge(point, system, ModelCatalog::global());
  }

  std::unique_ptr<CaseEstimator> for_case(const TestRun& run, const System& system) const override {
    return std::make_unique<MegatronBridgeCaseEstimator>(run, system);
  }

  // The reader's figures (RunRead::measured), from the same cached parse of the log.
  MeasuredRun measured(const std::filesystem::path& run_dir) const override {
    std::optional<std::filesystem::path> log = mbridge::find_launcher_log(run_dir);
    auto read = log ? mbridge::launcher_log_read(*log) : nullptr;
    return read ? mbridge::mbridge_measured(*read) : MeasuredRun{};
  }
};

}  // namespace

Estimate estimate_megatron_bridge(const TestRun& point, const System& system,
                                  const ModelCatalog& catalog) {
  return estimate_with(point, megatron_bridge_memory_point(point, &system, catalog));
}

const Estimator& megatron_bridge_estimator() {
  static const MegatronBridgeEstimator estimator;
  return estimator;
}

}  // namespace bp
