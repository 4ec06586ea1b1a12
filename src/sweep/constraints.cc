#include "sweep/constraints.h"

#include <stdexcept>

#include "core/workload.h"

namespace bp {

const ConstraintSet* constraints_for(std::string_view test_template_name) {
  const Workload* w = find_workload(test_template_name);
  return w ? w->info().constraints : nullptr;
}

CompiledConstraints compile_case_constraints(const TestRun& run, const ParamSpace& space,
                                             const System* system) {
  const ConstraintSet* set = constraints_for(run.test.test_template_name);
  if (!set) return CompiledConstraints();
  return set->compile(run, space, system);
}

CompiledConstraints compile_case_warnings(const TestRun& run, const ParamSpace& space,
                                          const System* system) {
  const ConstraintSet* set = constraints_for(run.test.test_template_name);
  if (!set) return CompiledConstraints();
  return set->warnings(run, space, system);
}

CompiledConstraints compile_constraints(const std::vector<FieldDecoder>& decoders,
                                        std::vector<Rule> rules, const TestRun& run,
                                        const ParamSpace& space) {
  if (rules.size() > kMaxRules) throw std::logic_error("too many constraint rules");
  CompiledConstraints c;
  c.rules_ = std::move(rules);
  for (const Rule& r : c.rules_) c.oks_.push_back(r.ok);
  c.axes_.resize(space.axes().size());
  for (const FieldDecoder& d : decoders) {
    for (int slot : d.slots)
      if (slot < 0 || static_cast<size_t>(slot) >= kMaxSlots)
        throw std::logic_error("constraint slot out of range");
    const bool is_nodes = d.field == "NUM_NODES";
    const std::string key_path = is_nodes ? "num_nodes" : "cmd_args." + d.field;
    int axis = space.find_axis(d.field);
    if (axis >= 0 && space.axes()[axis].target == Axis::Target::kEnvVar) axis = -1;
    if (axis < 0) {
      Value nodes;
      const Value* v = nullptr;
      if (is_nodes) {
        nodes = Value::integer(run.num_nodes.empty() ? 1 : run.num_nodes.front(), run.loc);
        v = &nodes;
      } else {
        v = run.test.cmd_args.find_path(d.field);
      }
      d.decode(v, c.base_.data(), key_path);
      continue;
    }
    // One patch row per value; several decoders may read the same axis.
    const Axis& ax = space.axes()[axis];
    auto& p = c.axes_[axis];
    const uint32_t old_width = p.width;
    const uint32_t width = old_width + static_cast<uint32_t>(d.slots.size());
    std::vector<int64_t> values(ax.values.size() * width);
    for (size_t i = 0; i < ax.values.size(); ++i) {
      for (uint32_t k = 0; k < old_width; ++k) values[i * width + k] = p.values[i * old_width + k];
      std::array<int64_t, kMaxSlots> scratch;
      scratch.fill(0);
      d.decode(&ax.values[i], scratch.data(), key_path);
      for (size_t k = 0; k < d.slots.size(); ++k)
        values[i * width + old_width + k] = scratch[d.slots[k]];
    }
    for (int slot : d.slots) p.slots.push_back(static_cast<uint16_t>(slot));
    p.values = std::move(values);
    p.width = width;
  }
  for (auto& p : c.axes_) {
    uint64_t slots = 0;
    for (uint16_t slot : p.slots) slots |= uint64_t{1} << slot;
    for (size_t i = 0; i < c.rules_.size(); ++i)
      if (c.rules_[i].reads & slots) p.rules |= uint64_t{1} << i;
  }
  return c;
}

uint64_t CompiledConstraints::check(const std::vector<uint32_t>& indices) const {
  Evaluator e(*this);
  e.load(indices);
  return e.violations();
}

std::vector<Violation> CompiledConstraints::explain(const std::vector<uint32_t>& indices) const {
  Evaluator e(*this);
  e.load(indices);
  return e.explain(e.violations());
}

CompiledConstraints::Evaluator::Evaluator(const CompiledConstraints& c)
    : c_(c),
      s_(c.base_),
      dirty_(c.rules_.size() >= 64 ? ~uint64_t{0} : (uint64_t{1} << c.rules_.size()) - 1) {}

void CompiledConstraints::Evaluator::apply(size_t axis, uint32_t index) {
  const AxisPatches& p = c_.axes_[axis];
  const int64_t* v = p.values.data() + static_cast<size_t>(index) * p.width;
  for (uint32_t k = 0; k < p.width; ++k) s_[p.slots[k]] = v[k];
}

void CompiledConstraints::Evaluator::load(const std::vector<uint32_t>& indices) {
  update(indices, 0);
}

void CompiledConstraints::Evaluator::update(const std::vector<uint32_t>& indices, size_t first) {
  for (size_t a = first; a < c_.axes_.size(); ++a) {
    if (!c_.axes_[a].width) continue;
    apply(a, indices[a]);
    dirty_ |= c_.axes_[a].rules;
  }
}

uint64_t CompiledConstraints::Evaluator::violations() {
  const int64_t* s = s_.data();
  for (uint64_t d = dirty_; d; d &= d - 1) {
    const int i = __builtin_ctzll(d);
    const uint64_t bit = uint64_t{1} << i;
    if (c_.oks_[i](s))
      fails_ &= ~bit;
    else
      fails_ |= bit;
  }
  dirty_ = 0;
  return fails_;
}

std::vector<Violation> CompiledConstraints::Evaluator::explain(uint64_t mask) const {
  std::vector<Violation> out;
  for (size_t i = 0; i < c_.rules_.size(); ++i) {
    if (!(mask >> i & 1)) continue;
    const Rule& r = c_.rules_[i];
    out.push_back({std::string(r.id), std::string(r.name), r.explain(s_.data())});
  }
  return out;
}

}  // namespace bp
