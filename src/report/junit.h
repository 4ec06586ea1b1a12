// results.xml: the scenario as JUnit XML for CI systems. One <testsuite> per case (per iteration
// for sweeps), one <testcase> per run: failures carry their reason and the end of the log,
// pruned sweep points are <skipped> with the rules they broke, dry-run points are <skipped>.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/run_record.h"

namespace bp {

std::string format_junit(const std::filesystem::path& root, const std::string& scenario_name,
                         const std::vector<RunRecord>& records);

// Writes <root>/results.xml (a failure is a warning), or `user_file` when not empty: a path the
// user named (--junit), written by util/files.h write_user_output, which throws OutputError.
void write_junit_report(const std::string& user_file, const std::filesystem::path& root,
                        const std::string& scenario_name, const std::vector<RunRecord>& records);

}  // namespace bp
