#include "sweep/prune_log.h"

#include <stdexcept>

#include "config/python_repr.h"
#include "util/error.h"
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

}  // namespace bp
