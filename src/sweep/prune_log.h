// What the constraints pruned: pruned.csv (one row per pruned point: step, its values, the
// rules and their messages) and per-rule counts with a few examples for the summary and plan;
// and pruned.csv's reader, for report.html and results.xml.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sweep/constraints.h"
#include "sweep/param_space.h"
#include "util/line_appender.h"

namespace bp {

struct RuleTally {
  std::string id;
  std::string name;
  uint64_t count = 0;                 // points this rule rejected (a point may count for several)
  std::vector<std::string> examples;  // "step 7: tp=3 pp=1: <message>"
};

class PruneLog {
 public:
  static constexpr size_t kExamples = 3;

  // With a csv path, every added point is also written there (header: step, axis names,
  // rule_ids, messages), in whole rows: buffered up to 64 KiB and on flush().
  PruneLog(const ParamSpace& space, const CompiledConstraints& constraints,
           const std::filesystem::path& csv = {});

  // `ev` holds the point (loaded from `indices`), `mask` its violations (non-zero).
  void add(uint64_t point, const std::vector<uint32_t>& indices, uint64_t mask,
           const CompiledConstraints::Evaluator& ev);
  void flush();

  uint64_t pruned() const { return pruned_; }
  // Rules that rejected something, in rule order.
  std::vector<RuleTally> tallies() const;
  // "pruned 72 of 120 points: C1 tp*pp*cp divides num_gpus: 40 (e.g. ...)" over several lines.
  std::string summary(uint64_t points) const;

 private:
  std::string values_text(const std::vector<uint32_t>& indices) const;

  const ParamSpace& space_;
  std::vector<RuleTally> rules_;
  uint64_t pruned_ = 0;
  std::unique_ptr<LineAppender> csv_;
};

// Short "tp=3 pp=1" text of a point's values.
std::string describe_action(const Action& action);

// A row of pruned.csv.
struct PrunedPoint {
  int64_t step = 0;
  std::string values;                                       // "tp=4 pp=3"
  std::vector<std::pair<std::string, std::string>> params;  // ("tp", "4"), ("pp", "3")
  std::vector<std::string> rule_ids;
  std::string messages;
};
// <case dir>/pruned.csv; rows with the wrong number of cells are skipped, a missing file has
// none.
std::vector<PrunedPoint> read_pruned(const std::filesystem::path& case_dir);

struct PrunedRule {
  std::string id;
  uint64_t count = 0;
  std::vector<std::string> examples;  // "step 9: tp=1 pp=3: <messages>"
};
// Pruned points grouped by rule id (a point counts for each rule it broke), most frequent
// first, with up to `examples` examples each (as PruneLog::tallies, for a finished sweep's file).
std::vector<PrunedRule> group_pruned(const std::vector<PrunedPoint>& points, size_t examples = 3);

}  // namespace bp
