// Sweep constraint checking: points per second over whole Megatron-Bridge spaces of ~10^6, 10^7
// and 10^8 points on one core (CloudAI's rules alone, and with the model-aware rules), peak
// memory after each (flat: nothing grows with the space), and the same CloudAI rules in
// straightforward Python (bench/sweep_reference.py) on a sample of the largest space.
//
// Exits non-zero when the C++ and Python valid counts on the sample disagree.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/toml_reader.h"
#include "sweep/constraints.h"
#include "sweep/param_space.h"
#include "sweep/plan.h"
#include "workloads/megatron_bridge/constraints.h"
#include "workloads/megatron_bridge/step_time_model.h"

namespace {

using namespace bp;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kFieldOrder = {"use_megatron_fsdp",
                                              "cuda_graph_impl",
                                              "cuda_graph_scope",
                                              "tp",
                                              "pp",
                                              "cp",
                                              "vp",
                                              "ep",
                                              "et",
                                              "mb",
                                              "gb",
                                              "moe_a2a_overlap",
                                              "activation_offload_layers",
                                              "recompute_modules"};

// A space of 1,658,880 x len(gb) points.
std::string space_toml(const std::string& recipe, int gb_values) {
  std::string gb;
  for (int i = 0; i < gb_values; ++i) gb += (i ? ", " : "") + std::to_string(128 * (i + 1));
  return "model_recipe_name = '" + recipe +
         "'\nnum_gpus = 64\n"
         "use_megatron_fsdp = [false, true]\n"
         "cuda_graph_impl = ['none', 'local', 'transformer_engine']\n"
         "cuda_graph_scope = ['attn', 'full_iteration', 'moe_router,moe_preprocess', 'attn,mlp', "
         "'moe']\n"
         "tp = [1, 2, 4, 8]\npp = [1, 2, 4, 8]\ncp = [1, 2, 4]\nvp = [1, 2, 4]\nep = [1, 2, 4, 8]\n"
         "et = [1, 2]\nmb = [1, 2, 4]\ngb = [" +
         gb +
         "]\nmoe_a2a_overlap = [false, true]\nactivation_offload_layers = [0, 2]\n"
         "recompute_modules = ['core_attn', 'mlp', 'moe_act', 'layernorm']\n";
}

TestRun make_run(const std::string& recipe, int gb_values) {
  TestRun run;
  run.id = "bench";
  run.test.test_template_name = "MegatronBridge";
  run.test.cmd_args = read_toml_string(space_toml(recipe, gb_values), "bench.toml");
  return run;
}

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

struct Result {
  uint64_t points = 0;
  uint64_t valid = 0;
  double seconds = 0;
  size_t rules = 0;
};

// Walks every point in order: only the axes that changed are re-applied.
Result scan(const TestRun& run, const ModelCatalog& catalog) {
  ParamSpace space(run, kFieldOrder);
  CompiledConstraints c = compile_megatron_bridge(run, space, catalog);
  CompiledConstraints::Evaluator ev(c);
  PointCursor cursor(space);
  Result r;
  r.rules = c.rules().size();
  auto t0 = Clock::now();
  size_t changed = 0;
  while (cursor.next(changed)) {
    ev.update(cursor.indices(), changed);
    r.valid += ev.violations() == 0;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.points = space.size();
  return r;
}

std::string with_commas(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// The step-time estimate (Megatron's FLOPs per token included) of every point of a
// tp × pp × cp × vp × ep × et × mb × gb × dtype × GPU-type grid of one model on 64 GPUs, one core.
Result estimate_all(const ModelShape& model) {
  const int64_t powers[] = {1, 2, 4, 8};
  const char* dtypes[] = {"bf16", "fp8_cs", "fp8_mx", "nvfp4"};
  const char* gpus[] = {"h100", "b200", "gb200"};
  Result r;
  double total_s = 0;  // consumed, so the loop is not optimised away
  StepTimeInput in;
  in.num_gpus = 64;
  auto t0 = Clock::now();
  for (const char* gpu : gpus)
    for (const char* dtype : dtypes)
      for (int64_t tp : powers)
        for (int64_t pp : powers)
          for (int64_t cp : {1, 2, 4})
            for (int64_t vp : {1, 2, 4})
              for (int64_t ep : powers)
                for (int64_t et : {1, 2})
                  for (int64_t mb : {1, 2, 4})
                    for (int64_t gb = 128; gb <= 128 * 61; gb += 128) {
                      in = {tp, pp, cp, vp, ep, et, mb, gb, 0, 64, gpu, dtype};
                      ++r.points;
                      if (auto e = estimate_step_time(model, in)) {
                        ++r.valid;
                        total_s += e->step_time_s;
                      }
                    }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (total_s < 0) std::printf("impossible\n");
  return r;
}

// `plan` of the ~10^6 space with the estimator's figures for every point that runs (make_plan,
// sweep/plan.h): the constraint walk plus one estimate per valid point, raw step times.
Result plan_with_estimates(TestRun run, uint64_t& estimated) {
  run.time_limit = "01:00:00";
  PlanEstimation raw;
  raw.calibrate = false;
  auto t0 = Clock::now();
  Plan p = make_plan(run, System{}, &raw);
  Result r;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.points = p.points;
  r.valid = p.valid;
  estimated = p.predicted ? p.predicted->estimated : 0;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  // --smoke (ctest): the smallest space and a smaller Python sample; the counts must still agree.
  const bool smoke = argc > 1 && std::string(argv[1]) == "--smoke";
  const ModelCatalog catalog = ModelCatalog::load("");
  std::printf("sweep_bench: checking every point of Megatron-Bridge sweep spaces, one core\n\n");
  std::printf("%-14s %-30s %6s %12s %8s %14s %10s\n", "space", "rules", "count", "valid", "seconds",
              "points/s", "peak RSS");
  struct Size {
    const char* label;
    int gb_values;
  };
  const Size sizes[] = {{"~10^6", 1}, {"~10^7", 7}, {"~10^8", 61}};
  double cloudai_rate_largest = 0;
  for (const Size& size : sizes) {
    if (smoke && size.gb_values != sizes[0].gb_values) break;
    struct Mode {
      const char* label;
      const char* recipe;
    };
    const Mode modes[] = {{"CloudAI's (model unknown)", "bench_model"},
                          {"CloudAI's + model (qwen3_30b)", "qwen3_30b_a3b"}};
    for (const Mode& mode : modes) {
      Result r = scan(make_run(mode.recipe, size.gb_values), catalog);
      double rate = static_cast<double>(r.points) / r.seconds;
      if (mode.recipe == std::string("bench_model")) cloudai_rate_largest = rate;
      std::printf("%-14s %-30s %6zu %12s %8.2f %14s %7.1f MiB   (%s points)\n", size.label,
                  mode.label, r.rules, with_commas(r.valid).c_str(), r.seconds,
                  with_commas(static_cast<uint64_t>(rate)).c_str(), peak_rss_kib() / 1024.0,
                  with_commas(r.points).c_str());
    }
  }

  {
    Result r = estimate_all(*catalog.find("qwen3_30b_a3b"));
    double rate = static_cast<double>(r.points) / r.seconds;
    std::printf("%-14s %-30s %6s %12s %8.2f %14s %7.1f MiB   (%s points, valid = estimated)\n",
                "~10^6", "step time + FLOPs (qwen3_30b)", "-", with_commas(r.valid).c_str(),
                r.seconds, with_commas(static_cast<uint64_t>(rate)).c_str(),
                peak_rss_kib() / 1024.0, with_commas(r.points).c_str());
  }

  {
    uint64_t estimated = 0;
    Result r = plan_with_estimates(make_run("qwen3_30b_a3b", 1), estimated);
    double rate = static_cast<double>(r.points) / r.seconds;
    std::printf("%-14s %-30s %6s %12s %8.2f %14s %7.1f MiB   (%s points, %s estimated)\n", "~10^6",
                "plan + estimates (qwen3_30b)", "-", with_commas(r.valid).c_str(), r.seconds,
                with_commas(static_cast<uint64_t>(rate)).c_str(), peak_rss_kib() / 1024.0,
                with_commas(r.points).c_str(), with_commas(estimated).c_str());
  }

  // Python reference on a strided sample of the largest space, CloudAI's rules only.
  TestRun run = make_run("bench_model", sizes[2].gb_values);
  ParamSpace space(run, kFieldOrder);
  CompiledConstraints c = compile_megatron_bridge(run, space, catalog);
  const uint64_t count = smoke ? 20000 : 200000;
  const uint64_t stride = space.size() / count - 1;  // not a multiple of an axis stride
  nlohmann::json spec;
  spec["base"] = {{"num_gpus", 64}, {"model_recipe_name", "bench_model"}};
  spec["axes"] = nlohmann::json::array();
  for (const Axis& a : space.axes()) {
    nlohmann::json values = nlohmann::json::array();
    for (const Value& v : a.values) {
      if (v.is_bool())
        values.push_back(v.as_bool());
      else if (v.is_int())
        values.push_back(v.as_int());
      else
        values.push_back(v.as_string());
    }
    spec["axes"].push_back({a.name, values});
  }
  spec["first"] = 1;
  spec["stride"] = stride;
  spec["count"] = count;
  auto spec_path = std::filesystem::temp_directory_path() / "bp_sweep_bench_spec.json";
  std::ofstream(spec_path) << spec.dump();

  uint64_t cpp_valid = 0;
  std::vector<uint32_t> idx;
  auto t0 = Clock::now();
  for (uint64_t i = 0, p = 1; i < count; ++i, p += stride) {
    space.decode(p, idx);
    cpp_valid += c.check(idx) == 0;
  }
  double cpp_sample_s = std::chrono::duration<double>(Clock::now() - t0).count();

  std::string cmd = std::string("python3 ") + BENCHPILOT_SOURCE_DIR + "/bench/sweep_reference.py " +
                    spec_path.string();
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) {
    std::printf("cannot run %s\n", cmd.c_str());
    return 1;
  }
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  if (pclose(pipe) != 0 || out.empty()) {
    std::printf("python reference failed: %s\n", out.c_str());
    return 1;
  }
  nlohmann::json py = nlohmann::json::parse(out);
  double py_rate = py["points"].get<double>() / py["seconds"].get<double>();
  uint64_t py_valid = py["valid"].get<uint64_t>();
  std::printf(
      "\nPython reference (bench/sweep_reference.py, CloudAI's rules on plain dicts), "
      "%s points sampled from the ~10^8 space:\n",
      with_commas(count).c_str());
  std::printf("  python3: %.2f s = %s points/s, valid %s\n", py["seconds"].get<double>(),
              with_commas(static_cast<uint64_t>(py_rate)).c_str(), with_commas(py_valid).c_str());
  std::printf("  C++ (random access, decode + check): %.3f s = %s points/s, valid %s\n",
              cpp_sample_s, with_commas(static_cast<uint64_t>(count / cpp_sample_s)).c_str(),
              with_commas(cpp_valid).c_str());
  std::printf("  ratio, C++ full scan (CloudAI's rules, ~10^8) / Python: %.0fx\n",
              cloudai_rate_largest / py_rate);
  std::printf("  ratio, C++ random access / Python: %.0fx\n", count / cpp_sample_s / py_rate);
  std::filesystem::remove(spec_path);
  if (py_valid != cpp_valid) {
    std::printf("MISMATCH: C++ found %llu valid points, Python %llu\n",
                static_cast<unsigned long long>(cpp_valid),
                static_cast<unsigned long long>(py_valid));
    return 1;
  }
  return 0;
}
