#include "util/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "util/error.h"
#include "util/files.h"
#include "util/strings.h"

namespace bp::log {
namespace {

std::atomic<int> g_warnings{0};
ConsoleHook g_console_hook = nullptr;

// Runs `write` between the console hook's "before" and "after" calls when the console will show
// the message (a live status line clears itself before and redraws itself after).
template <typename Write>
void with_console_hook(spdlog::level::level_enum level, Write write);

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_pattern("%v");  // the level tag is ours: CloudAI's "[INFO] message"
    sink->set_level(spdlog::level::info);
    auto lg = std::make_shared<spdlog::logger>("benchpilot", sink);
    lg->set_level(spdlog::level::debug);
    return lg;
  }();
  return *l;
}

spdlog::level::level_enum to_spd(Level l) {
  switch (l) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarning:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

template <typename Write>
void with_console_hook(spdlog::level::level_enum level, Write write) {
  ConsoleHook hook = g_console_hook;
  bool shown = hook && logger().sinks().front()->should_log(level);
  if (shown) hook(true);
  write();
  if (shown) hook(false);
}

}  // namespace

void init(Level console_level, const std::string& file) {
  auto& lg = logger();
  lg.sinks().front()->set_level(to_spd(console_level));
  if (!file.empty()) {
    check_user_output_path(file);
    std::shared_ptr<spdlog::sinks::basic_file_sink_mt> fsink;
    try {
      fsink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, /*truncate=*/true);
    } catch (const spdlog::spdlog_ex& e) {
      throw OutputError("cannot write the log file " + file + " (--log-file): " + e.what());
    }
    fsink->set_pattern("%Y-%m-%d %H:%M:%S.%e %v");
    fsink->set_level(spdlog::level::debug);
    lg.sinks().push_back(fsink);
  }
  lg.flush_on(spdlog::level::debug);
}

bool parse_level(std::string_view name, Level& out) {
  std::string n = to_lower(name);
  if (n == "debug")
    out = Level::kDebug;
  else if (n == "info")
    out = Level::kInfo;
  else if (n == "warning" || n == "warn")
    out = Level::kWarning;
  else if (n == "error" || n == "critical")
    out = Level::kError;
  else
    return false;
  return true;
}

void set_console_hook(ConsoleHook hook) {
  g_console_hook = hook;
}

void debug(std::string_view msg) {
  with_console_hook(spdlog::level::debug, [&] { logger().debug("[DEBUG] {}", msg); });
}
void info(std::string_view msg) {
  with_console_hook(spdlog::level::info, [&] { logger().info("[INFO] {}", msg); });
}
void warn(std::string_view msg) {
  ++g_warnings;
  with_console_hook(spdlog::level::warn, [&] { logger().warn("[WARNING] {}", msg); });
}
void error(std::string_view msg) {
  with_console_hook(spdlog::level::err, [&] { logger().error("[ERROR] {}", msg); });
}
int warning_count() {
  return g_warnings.load();
}

}  // namespace bp::log
