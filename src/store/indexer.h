// Reading finished runs out of results folders for the store: benchpilot's folders (with their
// journal and summary.json) and CloudAI's (test-run.toml, the scheduler's job record, the
// launcher log). Nothing is written into the folders.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/run_record.h"
#include "store/store.h"
#include "util/error.h"

namespace bp {

struct IndexContext {
  std::string system_name;         // when the folder does not say (CloudAI's never does)
  std::string benchpilot_version;  // likewise
};

// Every run of one results folder that has a test-run.toml or a launcher log. Throws
// FileError when `root` is not a directory.
std::vector<StoredRun> runs_from_results_folder(const std::filesystem::path& root,
                                                const IndexContext& ctx = {});

// The runs a campaign just finished, with the engine's verdicts, metrics and states, plus what
// their run dirs say (parameters, model, image, commit, times, the workload's metric samples).
std::vector<StoredRun> runs_from_records(const std::filesystem::path& root,
                                         const std::vector<RunRecord>& records,
                                         const IndexContext& ctx);

// Folders under `dir` (itself included) that look like results folders: they hold a
// summary.json or journal.bpj, or run directories of a CloudAI campaign.
std::vector<std::filesystem::path> find_results_folders(const std::filesystem::path& dir);

}  // namespace bp
