#include "workloads/megatron_bridge/workload.h"

#include <cstdlib>

#include <mutex>
#include <set>

#include "core/run_folder.h"
#include "util/error.h"
#include "util/files.h"
#include "util/log.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/args.h"
#include "workloads/megatron_bridge/constraints.h"
#include "workloads/megatron_bridge/estimator.h"
#include "workloads/megatron_bridge/launcher_command.h"
#include "workloads/megatron_bridge/launcher_flags.h"
#include "workloads/megatron_bridge/nccl_gate.h"
#include "workloads/megatron_bridge/pinned_release.h"
#include "workloads/megatron_bridge/report.h"
#include "workloads/megatron_bridge/validate.h"
#include "workloads/megatron_bridge/wrapper.h"

namespace bp::mbridge {

namespace fs = std::filesystem;

namespace {

Installable python_installable(const TestDefinition& test, const System& system) {
  Installable item;
  item.kind = Installable::Kind::kPythonEnv;
  item.repo.url = kNemoRunUrl;
  item.repo.commit = kNemoRunCommit;
  if (test.nemo_run_repo) item.repo = *test.nemo_run_repo;
  item.python = launcher_python_override(system);
  return item;
}

Installable repo_installable(const TestDefinition& test) {
  const GitRepo* repo = find_mbridge_repo(test);
  if (!repo)
    throw ConfigError(test.loc, "git_repos",
                      "MegatronBridge needs the Megatron-Bridge repository in [[git_repos]]");
  Installable item;
  item.kind = Installable::Kind::kGitRepo;
  item.repo = *repo;
  return item;
}

// Relative paths (e.g. install_path = "./install") become absolute: the wrapper may run
// elsewhere. A bare interpreter name ("python3") is left to PATH.
fs::path absolute_if_path(const fs::path& p) {
  if (p.string().find('/') == std::string::npos) return p;
  return fs::absolute(p).lexically_normal();
}

std::string written_string(const TestDefinition& test, std::string_view key) {
  const Value* v = test.cmd_args.find(key);
  return v && v->is_string() ? std::string(trim(v->as_string())) : std::string();
}

// A value somebody wrote that ends up in the generated launcher script, and where it was written.
struct UserValue {
  std::string key;
  SourceLoc loc;
  std::string text;
};

// The strings a user wrote that reach the generated launcher script, except the secret fields
// themselves (which the script only references as "$HF_TOKEN" / "$WANDB_API_KEY"). Numbers and
// booleans cannot be secrets and are left out.
std::vector<UserValue> user_values_in_script(const TestDefinition& test, const System& system) {
  std::vector<UserValue> out;
  auto add = [&](const std::string& key, const Value& v) {
    if (v.is_string()) out.push_back({key, v.loc(), v.as_string()});
    if (v.is_array())
      for (const Value& item : v.items())
        if (item.is_string()) out.push_back({key, item.loc(), item.as_string()});
  };
  const Value& env = test.extra_env_vars;
  for (size_t i = 0; i < env.keys().size(); ++i)
    add("extra_env_vars." + env.keys()[i], env.items()[i]);
  for (const auto& [key, value] : system.global_env_vars)
    out.push_back({"global_env_vars." + key, system.loc, value});
  for (const auto& [key, value] : test.extra_cmd_args)
    out.push_back({"extra_cmd_args." + key, test.loc, value});
  for (const std::string& m : test.extra_container_mounts)
    out.push_back({"extra_container_mounts", test.loc, m});
  for (size_t i = 0; i < test.cmd_args.keys().size(); ++i) {
    const std::string& key = test.cmd_args.keys()[i];
    if (key != "hf_token" && key != "wandb_key") add("cmd_args." + key, test.cmd_args.items()[i]);
  }
  out.push_back({"account", system.loc, system.account});
  out.push_back({"default_partition", system.loc, system.default_partition});
  out.push_back({"extra_srun_args", system.loc, system.extra_srun_args});
  return out;
}

// Guards the rule that no secret lands in a generated file (e.g. a token pasted into
// extra_env_vars would otherwise end up in a -cb export). A secret is compared with whole
// user-written values, never with the script's own text, and values too short to be secrets
// (HF_TOKEN=1) are not compared at all (see kMinSecretLength).
void refuse_secret(const std::vector<UserValue>& values, const std::string& secret,
                   std::string_view what) {
  if (secret.size() < kMinSecretLength) return;
  for (const UserValue& v : values) {
    if (trim(v.text) != secret) continue;
    throw ConfigError(v.loc, v.key,
                      "this value is the " + std::string(what) +
                          ", and it would be written into the generated launcher script; pass "
                          "it only through cmd_args or the environment");
  }
}

}  // namespace

void check_pinned_launcher(const TestDefinition& test, const System& system) {
  Installable repo = repo_installable(test);
  fs::path clone = installed_path(repo, system);
  // The sweep rules that follow the pinned recipes (C18, M6) read the clone's era from here.
  if (RecipeEra era = era_of_clone(clone); era != RecipeEra::kUnknown)
    remember_clone_era(repo.repo.commit, era);
  std::optional<LauncherFlagSet> flags = read_launcher_flags(clone);
  if (!flags) {
    static std::mutex mu;
    static std::set<std::string> told;
    std::lock_guard<std::mutex> lock(mu);
    if (!told.insert(clone.string()).second) return;
    std::error_code ec;
    if (fs::is_directory(clone, ec))
      log::warn(clone.string() +
                " has no scripts/performance/argument_parser.py: the flags sent to its "
                "launcher cannot be checked against it");
    else
      log::info("Megatron-Bridge " + repo.repo.commit + " is not installed at " + clone.string() +
                " yet: the flags sent to its launcher are checked once it is (benchpilot "
                "install)");
    return;
  }
  check_against_launcher(test, *flags, repo.repo.commit);
}

std::string launcher_python_override(const System& system) {
  if (auto it = system.workload_settings.find(kLauncherPythonKey);
      it != system.workload_settings.end() && !it->second.empty())
    return it->second;
  const char* env = std::getenv("BENCHPILOT_LAUNCHER_PYTHON");
  return env ? std::string(trim(env)) : std::string();
}

std::vector<Installable> mbridge_installables(const TestDefinition& test, const System& system) {
  std::vector<Installable> items;
  if (std::string image = written_string(test, "container_image"); !image.empty()) {
    Installable item;
    item.kind = Installable::Kind::kContainerImage;
    item.image = image;
    items.push_back(item);
  }
  items.push_back(python_installable(test, system));
  items.push_back(repo_installable(test));
  return items;
}

const WorkloadInfo& MegatronBridgeWorkload::info() const {
  static const WorkloadInfo info = [] {
    WorkloadInfo i;
    i.name = "MegatronBridge";
    i.cmd_args_fields = arg_names();
    i.secret_fields = {"hf_token", "wandb_key"};
    i.system_keys = {kLauncherPythonKey};
    i.metric_names = mbridge_metric_names();
    i.result_columns = {{"step-time", "step time (s)", 3, false, "s"},
                        {"tflops-per-gpu", "TFLOP/s/GPU", 1, true, "TFLOP/s/GPU"}};
    i.comparison_metric = "step-time";
    i.image_field = "container_image";
    i.heatmap_axes = {"tp", "pp"};
    i.report_files = {
        "report.txt (step time and TFLOP/s/GPU statistics, as CloudAI)",
        "training_report.json (CloudAI's schema: configuration, every step, aggregates)"};
    // cmd_args.num_gpus (the launcher's -ng), default from the schema.
    i.gpu_count = {"num_gpus", find_arg("num_gpus")->default_value.as_int()};
    i.constraints = &megatron_bridge_constraints();
    i.estimator = &megatron_bridge_estimator();
    i.submits_own_jobs = true;
    i.takes_nemo_run_repo = true;
    // The scenario's pre_test runs as a gate job the training job is chained after
    // (nccl_gate.h).
    i.runs_own_pre_tests = true;
    return i;
  }();
  return info;
}

void MegatronBridgeWorkload::validate(const TestDefinition& test) const {
  mbridge::validate(test);
}

void MegatronBridgeWorkload::preflight(const TestDefinition& test, const System& system,
                                       PreflightMode mode) const {
  if (mode == PreflightMode::kBeforeRun) mbridge::preflight(test);
  check_pinned_launcher(test, system);
  if (mode == PreflightMode::kBeforeRun) check_system_srun_args(system);
}

std::vector<Installable> MegatronBridgeWorkload::installables(const TestDefinition& test,
                                                              const System& system) const {
  return mbridge_installables(test, system);
}

RunSpec MegatronBridgeWorkload::prepare(const RunContext& ctx) const {
  const TestDefinition& test = ctx.run.test;
  Installable python = python_installable(test, ctx.system);
  LauncherInputs in;
  in.run_dir = fs::absolute(ctx.run_dir).lexically_normal();
  in.python = absolute_if_path(python_of(python, ctx.system));
  in.mbridge_dir =
      fs::absolute(installed_path(repo_installable(test), ctx.system)).lexically_normal();
  in.resolved_nodes = ctx.resolved_nodes;
  in.gpu_directives_supported = ctx.gpu_directives_supported;
  in.after_pre_hook = ctx.run.pre_test != nullptr;
  in.job_comment = ctx.job_comment;

  WrapperInputs w;
  w.run_dir = in.run_dir;
  w.python = in.python.string();
  w.launcher_script = launcher_script(in);
  w.launcher_arguments = launcher_arguments(ctx.run, ctx.system, in);
  if (ctx.run.pre_test) w.pre_launch = write_gate(ctx, *ctx.run.pre_test);
  if (python.python.empty()) w.pip_python = in.python.string();
  for (const auto& [key, value] : final_env_vars(test, ctx.system))
    if (is_container_runtime_var(key)) w.runtime_exports.emplace_back(key, value);

  std::string hf_token = resolve_hf_token(test);
  std::string wandb_key = written_string(test, "wandb_key");
  std::vector<UserValue> user_values = user_values_in_script(test, ctx.system);
  refuse_secret(user_values, hf_token, "HF token");
  refuse_secret(user_values, wandb_key, "W&B key");

  RunSpec spec;
  spec.command = write_wrapper_files(w);
  spec.self_submitting = true;
  if (!hf_token.empty()) spec.process_env.emplace_back("HF_TOKEN", hf_token);
  if (!wandb_key.empty()) spec.process_env.emplace_back("WANDB_API_KEY", wandb_key);
  return spec;
}

namespace {

// The facts of the run's test-run.toml's [test_definition]: model recipe, GPU type and the
// Megatron-Bridge commit.
RunFacts run_facts(const Value& test_definition) {
  RunFacts f;
  if (const Value* args = test_definition.find("cmd_args")) {
    f.model = mbridge::stored_model_name(*args);
    f.gpu_type = mbridge::stored_gpu_type(*args);
  }
  if (const Value* repos = test_definition.find("git_repos"); repos && repos->is_array())
    for (const Value& repo : repos->items()) {
      if (!repo.is_table()) continue;
      const Value* url = repo.find("url");
      const Value* mount = repo.find("mount_as");
      const Value* commit = repo.find("commit");
      auto names_bridge = [](const Value* v) {
        return v && v->is_string() && v->as_string().find("Megatron-Bridge") != std::string::npos;
      };
      if ((names_bridge(url) || names_bridge(mount)) && commit && commit->is_string())
        f.software_commit = commit->as_string();
    }
  return f;
}

std::map<std::string, std::vector<double>> metric_samples(const LauncherLogRead& read) {
  std::map<std::string, std::vector<double>> out;
  if (read.samples.empty()) return out;
  std::vector<double>& step_time = out["step-time"];
  std::vector<double>& tflops = out["tflops-per-gpu"];
  for (const auto& s : last_samples(read)) {
    step_time.push_back(s.step_time_s);
    tflops.push_back(s.tflops_per_gpu);
  }
  return out;
}

RunFacts facts_of_folder(const fs::path& run_dir) {
  try {
    if (auto folder = read_run_folder_facts(run_dir))
      if (const Value* def = folder->test_run.find("test_definition")) return run_facts(*def);
  } catch (const std::exception&) {  // a damaged test-run.toml: no facts
  }
  return {};
}

}  // namespace

RunRead MegatronBridgeWorkload::read(const fs::path& run_dir) const {
  RunRead out;
  const std::optional<fs::path> log = find_launcher_log(run_dir);
  const std::shared_ptr<const LauncherLogRead> parsed = log ? launcher_log_read(*log) : nullptr;
  if (auto gate = gate_verdict(run_dir))
    out.verdict = *gate;
  else
    out.verdict = log_verdict(run_dir, log, parsed.get());
  if (parsed) {
    out.failure_details = last_of_lines(parsed->last_lines, kFailureDetailLines);
    out.metrics = mbridge_metrics(*parsed);
    out.samples = metric_samples(*parsed);
    out.measured = mbridge_measured(*parsed);
  }
  out.facts = facts_of_folder(run_dir);
  out.series = [parsed] {
    return parsed ? mbridge_report_series(*parsed) : std::vector<ReportSeries>{};
  };
  out.write_reports = [run_dir, log, parsed] { write_mbridge_reports(run_dir, log, parsed.get()); };
  return out;
}

bool MegatronBridgeWorkload::recognizes(const fs::path& run_dir) const {
  return mbridge_can_handle(run_dir);
}

}  // namespace bp::mbridge

namespace bp {

const Workload& megatron_bridge_workload() {
  static const mbridge::MegatronBridgeWorkload workload;
  return workload;
}

}  // namespace bp
