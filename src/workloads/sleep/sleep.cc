#include "workloads/sleep/sleep.h"

#include <system_error>

#include "config/schema.h"
#include "core/run_folder.h"
#include "util/log.h"

namespace bp {
namespace {

int64_t non_negative_seconds(const Value& v, const std::string& key_path) {
  int64_t seconds = expect_int(v, key_path);
  if (seconds < 0)
    throw ConfigError(v.loc(), key_path,
                      "expected a non-negative number of seconds, got " + std::to_string(seconds));
  return seconds;
}

}  // namespace

void SleepWorkload::validate(const TestDefinition& test) const {
  const Value& args = test.cmd_args;
  if (args.is_none()) return;
  if (!args.is_table())
    throw ConfigError(args.loc(), "cmd_args",
                      "expected a table, got " + std::string(args.type_name()));
  const std::vector<std::string>& known = info().cmd_args_fields;
  for (size_t i = 0; i < args.keys().size(); ++i) {
    const std::string& key = args.keys()[i];
    const Value& v = args.items()[i];
    if (key != "seconds") {
      std::string hint = closest_match(key, known);
      log::warn(v.loc().str() + ": cmd_args." + key + " is not a Sleep argument; it is ignored" +
                (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      continue;
    }
    if (!v.is_array()) {
      non_negative_seconds(v, "cmd_args.seconds");
      continue;
    }
    if (v.size() == 0)
      throw ConfigError(v.loc(), "cmd_args.seconds",
                        "expected an integer or a non-empty list of integers, got an empty list");
    for (size_t j = 0; j < v.size(); ++j)
      non_negative_seconds(v.items()[j], "cmd_args.seconds[" + std::to_string(j) + "]");
  }
}

RunSpec SleepWorkload::prepare(const RunContext& ctx) const {
  int64_t seconds = kSleepDefaultSeconds;
  if (const Value* v = ctx.run.test.cmd_args.find("seconds")) {
    if (v->is_array())
      throw ConfigError(v->loc(), "cmd_args.seconds",
                        "expected one value for a run; a list is a sweep and is expanded before "
                        "the run is prepared");
    seconds = non_negative_seconds(*v, "cmd_args.seconds");
  }
  RunSpec spec;
  spec.command = "sleep " + std::to_string(seconds);
  spec.self_submitting = false;
  return spec;
}

const WorkloadInfo& SleepWorkload::info() const {
  static const WorkloadInfo info = [] {
    WorkloadInfo i;
    i.name = "Sleep";
    i.cmd_args_fields = {"seconds"};
    return i;
  }();
  return info;
}

RunRead SleepWorkload::read(const std::filesystem::path& run_dir) const {
  RunRead out;
  out.verdict = RunVerdict{true, ""};
  out.failure_details = stderr_tail(run_dir);
  return out;
}

bool SleepWorkload::recognizes(const std::filesystem::path& run_dir) const {
  try {
    std::optional<RunFolderFacts> facts = read_run_folder_facts(run_dir);
    return facts && facts->workload == name();
  } catch (const std::exception&) {  // a damaged test-run.toml says nothing
    return false;
  }
}

const Workload& sleep_workload() {
  static const SleepWorkload workload;
  return workload;
}

}  // namespace bp
