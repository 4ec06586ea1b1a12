// benchpilot resume <results folder>: continues a campaign that benchpilot left (killed, lost
// session, reboot) with the inputs its journal recorded.
#include <filesystem>
#include <iostream>

#include "campaign/campaign.h"
#include "cli/commands.h"
#include "util/log.h"

namespace bp {

namespace fs = std::filesystem;

int cmd_resume(const std::string& results_dir, const CommonOptions& extra) {
  const fs::path root = fs::absolute(results_dir);
  JournalContents journal = read_journal(root / kJournalFile);
  if (!journal.header) {
    log::error(root.string() + " has no campaign journal (" + kJournalFile +
               "); only results folders of `benchpilot run` can be resumed");
    return 1;
  }
  if (journal.complete) {
    std::cout << "The campaign in " << root.string() << " already ended (exit code "
              << journal.exit_code << "); nothing to resume.\n";
    return journal.exit_code;
  }
  const auto& in = journal.header->inputs;
  auto input = [&](const char* key) {
    auto it = in.find(key);
    return it == in.end() ? std::string() : it->second;
  };
  CommonOptions opts = extra;
  opts.system_config = input("system_config");
  opts.tests_dir = input("tests_dir");
  opts.test_scenario = input("test_scenario");
  opts.output_dir = input("output_dir");
  opts.hook_dir = input("hook_dir");
  opts.resume_dir = root.string();
  for (const std::string& f : {opts.system_config, opts.test_scenario})
    if (f.empty() || !fs::exists(f)) {
      log::error("cannot resume " + root.string() + ": its input " +
                 (f.empty() ? std::string("(unrecorded)") : f) +
                 " is gone; run `benchpilot run --resume` with the original files instead");
      return 1;
    }
  return cmd_run(opts, RunMode::kRun);
}

}  // namespace bp
