// Logging front end. spdlog stays in log.cc so this header is cheap to include.
#pragma once

#include <string>
#include <string_view>

namespace bp::log {

enum class Level { kDebug, kInfo, kWarning, kError };

// Console gets `console_level` and above ("[INFO] message"); the file, when given, gets
// everything from debug up. Parses CloudAI's names: DEBUG, INFO, WARNING, ERROR. Throws
// OutputError (util/error.h) naming the file when it is refused (util/files.h
// check_user_output_path) or cannot be opened; a later failed write of it is reported on stderr
// by spdlog and the command goes on.
void init(Level console_level, const std::string& file = "");
bool parse_level(std::string_view name, Level& out);

void debug(std::string_view msg);
void info(std::string_view msg);
void warn(std::string_view msg);
void error(std::string_view msg);

// Called with true just before a message reaches the console and with false just after (a live
// status line on the terminal clears itself and redraws below the message); null = none.
using ConsoleHook = void (*)(bool before);
void set_console_hook(ConsoleHook hook);

// Number of warnings logged since start (verify-configs and tests use it).
int warning_count();

}  // namespace bp::log
