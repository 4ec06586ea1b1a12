// A campaign: one results folder whose points are journaled (journal.h) so that it can be
// resumed after benchpilot died, and locked (lock.h) so two benchpilots never share it.
//
// The engine asks the campaign, for each point it is about to start, what an earlier session
// already did (finished: reuse the record; submitted: re-attach to the job; submitting: find the
// job by its comment) and tells it every transition before acting.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "campaign/journal.h"
#include "core/scenario.h"
#include "util/error.h"
#include "util/folder_lock.h"

namespace bp {

constexpr const char* kJournalFile = "journal.bpj";
// Job comments start with this, then "<campaign id>:<case>/<iteration>[/<step>]".
constexpr const char* kCommentPrefix = "benchpilot:";

// Everything that decides which points a case has and how each runs (parameters, agent, seed,
// budget, iterations, nodes); secrets are left out. Same inputs give the same fingerprint.
std::string case_fingerprint(const TestRun& run);

class Campaign {
 public:
  // Starts journaling a new campaign in `root` (a new, empty results folder).
  static std::unique_ptr<Campaign> create(const std::filesystem::path& root,
                                          const Scenario& scenario,
                                          const std::map<std::string, std::string>& inputs);
  // Reopens the campaign in `root` to continue it. Throws Error when another
  // benchpilot holds it, when it has no journal, or when the scenario's points differ.
  static std::unique_ptr<Campaign> reopen(const std::filesystem::path& root,
                                          const Scenario& scenario);

  const std::filesystem::path& root() const { return root_; }
  const std::string& id() const { return header_.id; }
  bool resumed() const { return resumed_; }
  // The Slurm job comment for a point: how a job whose id was never recorded is found again.
  std::string comment(const PointKey& k) const;
  // What an earlier session did with this point; nullptr when it never started it (or it was
  // cancelled by benchpilot, so it runs again).
  const PointState* previous(const PointKey& k) const;
  // Whether an earlier session recorded anything for this point (cancelled included).
  bool started_before(const PointKey& k) const { return previous_.points.count(k) > 0; }
  // Moves what an earlier session left in a point's run dir (a cancelled job's logs, a failed
  // submission) to <root>/.superseded/<case>/<iteration>/<step>-<n>, so a rerun starts clean and
  // reports never mix two attempts. Nothing happens when the dir is absent or empty.
  void set_aside(const std::filesystem::path& run_dir, const PointKey& k) const;
  // Finished batches of an earlier session for (case, iteration), indexed by batch number - 1
  // (a batch may be empty when the session died while writing it).
  std::vector<std::vector<int>> previous_batches(const std::string& case_id, int iteration) const;
  // Points an earlier session started but did not see finish.
  size_t unfinished_previous() const;

  JournalWriter& journal() { return *journal_; }

 private:
  Campaign() = default;
  std::filesystem::path root_;
  std::unique_ptr<FolderLock> lock_;
  std::unique_ptr<JournalWriter> journal_;
  CampaignHeader header_;
  JournalContents previous_;
  bool resumed_ = false;
};

// Creates a new results folder for the scenario, <output_path>/<scenario name>_<stamp>, and never
// takes an existing one (two runs started within the same second get "_2", "_3", ...). Throws
// ConfigError at the scenario's name when the folder would lie outside output_path, FileError
// when output_path cannot be created.
std::filesystem::path create_results_folder(const std::filesystem::path& output_path,
                                            const Scenario& scenario, const std::string& stamp);

// The newest results folder of `scenario_name` under `output_path` whose campaign did not end;
// empty when there is none.
std::filesystem::path latest_unfinished_campaign(const std::filesystem::path& output_path,
                                                 const std::string& scenario_name);

}  // namespace bp
