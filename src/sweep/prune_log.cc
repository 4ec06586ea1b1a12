#include "sweep/prune_log.h"

#include <algorithm>
#include <stdexcept>

#include "config/python_repr.h"
#include "util/error.h"
#include "util/numbers.h"
#include "util/strings.h"

namespace bp {

std::string describe_action(const Action& action) {
  std::vector<std::string> parts;
  for (const auto& [name, v] : action)
    parts.push_back(name + "=" + (v.is_string() ? v.as_string() : v.to_toml_inline()));
  return join(parts, " ");
}

PruneLog::PruneLog(const ParamSpace& space, const CompiledConstraints& constraints,
                   const std::filesystem::path& csv)
    : space_(space) {
  for (const Rule& r : constraints.rules()) {
    RuleTally t;
    t.id = r.id;
    t.name = r.name;
    rules_.push_back(std::move(t));
  }
  if (!csv.empty()) {
    csv_ = std::make_unique<LineAppender>(csv);
    csv_->set_buffer_bytes(64 * 1024);
    std::string header = "step";
    for (const Axis& a : space.axes()) header += ',' + csv_field(a.name);
    csv_->append(header + ",rule_ids,messages\n");
    csv_->flush();
  }
}

std::string PruneLog::values_text(const std::vector<uint32_t>& indices) const {
  return describe_action(space_.action_of(indices));
}

void PruneLog::add(uint64_t point, const std::vector<uint32_t>& indices, uint64_t mask,
                   const CompiledConstraints::Evaluator& ev) {
  ++pruned_;
  bool need_text = static_cast<bool>(csv_);
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (!(mask >> i & 1)) continue;
    ++rules_[i].count;
    if (rules_[i].examples.size() < kExamples) need_text = true;
  }
  if (!need_text) return;
  std::vector<Violation> why = ev.explain(mask);
  std::string values;
  for (const Violation& v : why) {
    for (RuleTally& t : rules_) {
      if (t.id != v.rule_id || t.examples.size() >= kExamples) continue;
      if (values.empty()) values = values_text(indices);
      t.examples.push_back("step " + std::to_string(point) + ": " + values + ": " + v.message);
    }
  }
  if (csv_) {
    std::string row = std::to_string(point);
    for (size_t a = 0; a < indices.size(); ++a) {
      const Value& v = space_.axes()[a].values[indices[a]];
      row += ',' + csv_field(v.is_string() ? v.as_string() : v.to_toml_inline());
    }
    std::vector<std::string> ids, messages;
    for (const Violation& v : why) {
      ids.push_back(v.rule_id);
      messages.push_back(v.message);
    }
    row += ',' + csv_field(join(ids, ";")) + ',' + csv_field(join(messages, "; ")) + '\n';
    csv_->append(row);
  }
}

void PruneLog::flush() {
  if (csv_) csv_->flush();
}

std::vector<RuleTally> PruneLog::tallies() const {
  std::vector<RuleTally> out;
  for (const RuleTally& t : rules_)
    if (t.count) out.push_back(t);
  return out;
}

std::string PruneLog::summary(uint64_t points) const {
  std::string out =
      "pruned " + std::to_string(pruned_) + " of " + std::to_string(points) + " points";
  if (!pruned_) return out;
  out += " (a point may break several rules):";
  for (const RuleTally& t : tallies()) {
    out += "\n  " + t.id + " " + t.name + ": " + std::to_string(t.count);
    for (const std::string& e : t.examples) out += "\n      " + e;
  }
  return out;
}

std::vector<PrunedPoint> read_pruned(const std::filesystem::path& case_dir) {
  std::vector<PrunedPoint> out;
  const auto rows = read_csv_file(case_dir / "pruned.csv");
  if (rows.empty()) return out;
  const auto& header = rows[0];  // step, the axes, rule_ids, messages
  if (header.size() < 3) return out;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.size() != header.size()) continue;
    PrunedPoint p;
    p.step = parse_whole_int(trim(r[0])).value_or(0);
    std::vector<std::string> values;
    for (size_t c = 1; c + 2 < r.size(); ++c) {
      values.push_back(header[c] + "=" + r[c]);
      p.params.emplace_back(header[c], r[c]);
    }
    p.values = join(values, " ");
    for (const std::string& id : split(r[r.size() - 2], ';'))
      if (!trim(id).empty()) p.rule_ids.emplace_back(trim(id));
    p.messages = r.back();
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<PrunedRule> group_pruned(const std::vector<PrunedPoint>& points, size_t examples) {
  std::vector<PrunedRule> rules;
  for (const PrunedPoint& p : points) {
    for (const std::string& id : p.rule_ids) {
      auto it =
          std::find_if(rules.begin(), rules.end(), [&](const PrunedRule& r) { return r.id == id; });
      if (it == rules.end()) {
        rules.push_back({id, 0, {}});
        it = rules.end() - 1;
      }
      ++it->count;
      if (it->examples.size() < examples)
        it->examples.push_back("step " + std::to_string(p.step) + ": " + p.values + ": " +
                               p.messages);
    }
  }
  std::stable_sort(rules.begin(), rules.end(),
                   [](const PrunedRule& a, const PrunedRule& b) { return a.count > b.count; });
  return rules;
}

}  // namespace bp
