// The parameter space of a sweep case, as CloudAI defines it: every list-valued cmd_args field
// (nested tables flattened to dotted names) in the workload's field order, then cmd_args keys
// the workload does not know in file order, then list-valued extra_env_vars, then NUM_NODES
// when num_nodes is a list. Fields matched by dse_excluded_args are not swept.
//
// Points are numbered 1..size() in itertools.product order (the last axis varies fastest).
// Nothing enumerates the product up front: a point number decodes to per-axis value indices.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/value.h"
#include "core/scenario.h"

namespace bp {

class Workload;

struct Axis {
  enum class Target { kCmdArg, kEnvVar, kNumNodes };
  std::string name;  // as in trajectory.csv: "tp", "a.b", "extra_env_vars.KEY", "NUM_NODES"
  Target target = Target::kCmdArg;
  std::string key;  // cmd_args dotted path or env var name; empty for NUM_NODES
  std::vector<Value> values;
  // For each value, the index of the first value equal to it (same type and value), so two
  // points that differ only in duplicated list entries share an identity for the run cache.
  std::vector<uint32_t> canonical;
};

// An ordered list of (axis name, chosen value): a point as trajectory.csv and pruned.csv show it.
using Action = std::vector<std::pair<std::string, Value>>;

class ParamSpace {
 public:
  ParamSpace() = default;
  // Axes from a case, using the field order of its workload (nullptr: cmd_args file order).
  // Throws ConfigError for an empty list or a space with more than 2^64-1 points.
  ParamSpace(const TestRun& run, const Workload* workload);
  ParamSpace(const TestRun& run, const std::vector<std::string>& field_order);
  // Looks the workload up by the case's test_template_name.
  static ParamSpace of(const TestRun& run);

  bool is_sweep() const { return !axes_.empty(); }
  // Number of points; 1 when nothing is swept.
  uint64_t size() const { return size_; }
  const std::vector<Axis>& axes() const { return axes_; }
  // Index of the axis with this name, or -1.
  int find_axis(std::string_view name) const;

  // point in 1..size() -> one value index per axis. `indices` is resized to axes().size().
  void decode(uint64_t point, std::vector<uint32_t>& indices) const;
  uint64_t encode(const std::vector<uint32_t>& indices) const;
  // Identity of the values a point selects (equal for points whose values are all equal).
  uint64_t canonical_key(const std::vector<uint32_t>& indices) const;

  Action action(uint64_t point) const;
  Action action_of(const std::vector<uint32_t>& indices) const;

 private:
  void build(const TestRun& run, const std::vector<std::string>& field_order);

  std::vector<Axis> axes_;
  std::vector<uint64_t> strides_;  // points per step of each axis
  uint64_t size_ = 1;
};

// The case with one point's values applied: cmd_args.<name> (and the same key in test.raw),
// extra_env_vars.<KEY>, num_nodes. num_nodes_is_list is false afterwards.
TestRun apply_point(const TestRun& base, const ParamSpace& space, uint64_t point);
TestRun apply_indices(const TestRun& base, const ParamSpace& space,
                      const std::vector<uint32_t>& indices);

// Sequential walk over all points 1..size() in order, updating indices incrementally so a caller
// can refresh only the axes that changed.
class PointCursor {
 public:
  explicit PointCursor(const ParamSpace& space);
  uint64_t point() const { return point_; }  // 0 before the first next()
  const std::vector<uint32_t>& indices() const { return indices_; }
  // Advances; returns false after the last point. `first_changed` receives the lowest axis index
  // whose value changed (all axes after it changed too).
  bool next(size_t& first_changed);

 private:
  const ParamSpace& space_;
  std::vector<uint32_t> indices_;
  uint64_t point_ = 0;
};

}  // namespace bp
