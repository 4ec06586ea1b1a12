// The constraint engine: rules that prune sweep points before anything is generated or run.
//
// Rules are data (an id, a short name, a check and an explanation) over a point's "slots": a
// small array of integers a workload derives from the fields its rules read (tp, the number of
// layers of the model, a bit mask of CUDA-graph scopes, ...). Compiling a case decodes every
// value of every relevant axis into slot patches once, so checking a point copies a few integers
// and calls the rule functions; no Value or string is touched per point. Explanations (with the
// offending values) are only built for the points that are reported.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/scenario.h"
#include "core/system.h"
#include "sweep/param_space.h"

namespace bp {

constexpr size_t kMaxSlots = 64;
constexpr size_t kMaxRules = 64;  // violations are reported as a 64-bit mask
constexpr int64_t kUnsetSlot = INT64_MIN;

struct Rule {
  std::string_view id;    // stable, short: "C4", "M1"
  std::string_view name;  // what it checks, a few words
  bool (*ok)(const int64_t* slots);
  // One sentence naming the offending values; only called when ok() is false.
  std::string (*explain)(const int64_t* slots);
  // Bit k set = ok() reads slot k. Walks over a space re-check a rule only when an axis that
  // writes one of these slots changed; the default (all) is always correct.
  uint64_t reads = ~uint64_t{0};
};

// Slot bit mask for Rule::reads.
template <typename... S>
constexpr uint64_t slot_bits(S... slots) {
  return ((uint64_t{1} << static_cast<int>(slots)) | ... | uint64_t{0});
}

struct Violation {
  std::string rule_id;
  std::string rule_name;
  std::string message;
};

// How one field of a case becomes slots. `field` is a cmd_args dotted name or "NUM_NODES".
// decode() receives the field's value (nullptr when the case does not set it) and writes the
// slots listed in `slots`, whatever the value (so per-axis patches can overwrite each other).
// It throws ConfigError for values it cannot read.
struct FieldDecoder {
  std::string field;
  std::vector<int> slots;
  std::function<void(const Value* v, int64_t* slots, const std::string& key_path)> decode;
};

// A workload's rules bound to one case and its parameter space.
class CompiledConstraints {
 public:
  CompiledConstraints() { base_.fill(0); }

  const std::vector<Rule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }

  // Bit i set = rules()[i] rejects the point. `indices` has one entry per axis of the space.
  uint64_t check(const std::vector<uint32_t>& indices) const;
  std::vector<Violation> explain(const std::vector<uint32_t>& indices) const;

  // Incremental evaluation for walks that change few axes per step (PointCursor): after
  // update(), violations() re-checks only the rules that read a slot of a changed axis.
  class Evaluator {
   public:
    explicit Evaluator(const CompiledConstraints& c);
    void load(const std::vector<uint32_t>& indices);
    // Re-applies axes first..end from `indices` (what PointCursor::next reports as changed).
    void update(const std::vector<uint32_t>& indices, size_t first);
    uint64_t violations();
    std::vector<Violation> explain(uint64_t mask) const;
    // The slots as loaded (for a workload that reads its own slots back, e.g. to estimate).
    const int64_t* slots() const { return s_.data(); }

   private:
    void apply(size_t axis, uint32_t index);
    const CompiledConstraints& c_;
    std::array<int64_t, kMaxSlots> s_;
    uint64_t dirty_;      // rules to re-check
    uint64_t fails_ = 0;  // last result of every rule
  };

 private:
  friend CompiledConstraints compile_constraints(const std::vector<FieldDecoder>&,
                                                 std::vector<Rule>, const TestRun&,
                                                 const ParamSpace&);
  struct AxisPatches {
    uint32_t width = 0;           // slots written per value (0: no rule reads this axis)
    std::vector<uint16_t> slots;  // width entries
    std::vector<int64_t> values;  // width entries per axis value
    uint64_t rules = 0;           // rules that read one of `slots`
  };
  std::vector<Rule> rules_;
  std::vector<bool (*)(const int64_t*)> oks_;  // rules_[i].ok, packed for the hot loop
  std::array<int64_t, kMaxSlots> base_;
  std::vector<AxisPatches> axes_;
};

// Binds decoders and rules to a case: fields that are axes of `space` become per-value patches,
// the others are decoded once from the case's cmd_args (NUM_NODES from num_nodes).
CompiledConstraints compile_constraints(const std::vector<FieldDecoder>& decoders,
                                        std::vector<Rule> rules, const TestRun& run,
                                        const ParamSpace& space);

// A workload's constraints.
class ConstraintSet {
 public:
  virtual ~ConstraintSet() = default;
  virtual std::string_view workload() const = 0;  // test_template_name
  // Every rule this set may apply, for documentation and listings.
  virtual std::vector<Rule> all_rules() const = 0;
  // `system` may be null (verify-configs, tests): rules that need it then use defaults.
  virtual CompiledConstraints compile(const TestRun& run, const ParamSpace& space,
                                      const System* system) const = 0;
  // Rules that do not prune but warn (a point near the GPU's memory); none by default.
  virtual CompiledConstraints warnings(const TestRun& run, const ParamSpace& space,
                                       const System* system) const {
    (void)run;
    (void)space;
    (void)system;
    return CompiledConstraints();
  }
};

// The constraint set a workload declares (Workload::constraints), or nullptr when it has none.
const ConstraintSet* constraints_for(std::string_view test_template_name);
// The case's compiled constraints (none when its workload has no constraint set).
CompiledConstraints compile_case_constraints(const TestRun& run, const ParamSpace& space,
                                             const System* system = nullptr);
// The case's warning rules (ConstraintSet::warnings); empty when there are none.
CompiledConstraints compile_case_warnings(const TestRun& run, const ParamSpace& space,
                                          const System* system);

}  // namespace bp
