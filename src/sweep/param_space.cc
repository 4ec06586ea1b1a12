#include "sweep/param_space.h"

#include <algorithm>

#include "core/workload.h"
#include "util/error.h"

namespace bp {

namespace {

// Python-like identity for the run cache: same type and same value (1 and 1.0 differ).
bool same_value(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::kNone:
      return true;
    case Value::Type::kBool:
      return a.as_bool() == b.as_bool();
    case Value::Type::kInt:
      return a.as_int() == b.as_int();
    case Value::Type::kFloat:
      return a.as_double() == b.as_double();
    case Value::Type::kString:
      return a.as_string() == b.as_string();
    case Value::Type::kArray:
    case Value::Type::kTable:
      if (a.size() != b.size() || a.keys() != b.keys()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (!same_value(a.items()[i], b.items()[i])) return false;
      return true;
  }
  return false;
}

// dse_excluded_args entries are CloudAI's "cmd_args.<dotted path>" prefixes; a bare field name
// ("tp") is accepted too. Prefixes match whole path components.
bool path_matches(std::string_view entry, std::string_view path) {
  if (entry == path) return true;
  return path.size() > entry.size() && path.substr(0, entry.size()) == entry &&
         path[entry.size()] == '.';
}

bool excluded(const std::vector<std::string>& excluded_args, std::string_view full_path,
              std::string_view bare_path) {
  for (const std::string& e : excluded_args)
    if (path_matches(e, full_path) || path_matches(e, bare_path)) return true;
  return false;
}

Axis make_axis(std::string name, Axis::Target target, std::string key, const Value& list,
               const std::string& key_path) {
  if (list.size() == 0)
    throw ConfigError(list.loc(), key_path,
                      "an empty list leaves nothing to run; give at least one value (a list of "
                      "several values makes a sweep)");
  Axis axis;
  axis.name = std::move(name);
  axis.target = target;
  axis.key = std::move(key);
  axis.values = list.items();
  axis.canonical.resize(axis.values.size());
  for (size_t i = 0; i < axis.values.size(); ++i) {
    axis.canonical[i] = static_cast<uint32_t>(i);
    for (size_t j = 0; j < i; ++j) {
      if (same_value(axis.values[i], axis.values[j])) {
        axis.canonical[i] = static_cast<uint32_t>(j);
        break;
      }
    }
  }
  return axis;
}

// CloudAI's flatten_dict: nested tables become dotted names; lists are axes.
void collect_cmd_args(const Value& v, const std::string& path, const TestDefinition& test,
                      std::vector<Axis>& out) {
  if (v.is_table()) {
    for (size_t i = 0; i < v.size(); ++i)
      collect_cmd_args(v.items()[i], path + "." + v.keys()[i], test, out);
    return;
  }
  if (!v.is_array()) return;
  std::string full = "cmd_args." + path;
  if (excluded(test.dse_excluded_args, full, path)) return;
  out.push_back(make_axis(path, Axis::Target::kCmdArg, path, v, full));
}

void set_path(Value& table, std::string_view dotted, const Value& v) {
  size_t dot = dotted.find('.');
  if (dot == std::string_view::npos) {
    table.set(std::string(dotted), v);
    return;
  }
  std::string head(dotted.substr(0, dot));
  Value* child = table.find(head);
  if (!child || !child->is_table()) {
    table.set(head, Value::table());
    child = table.find(head);
  }
  set_path(*child, dotted.substr(dot + 1), v);
}

}  // namespace

ParamSpace::ParamSpace(const TestRun& run, const Workload* workload) {
  build(run, workload ? workload->info().cmd_args_fields : std::vector<std::string>{});
}

ParamSpace::ParamSpace(const TestRun& run, const std::vector<std::string>& field_order) {
  build(run, field_order);
}

ParamSpace ParamSpace::of(const TestRun& run) {
  return ParamSpace(run, find_workload(run.test.test_template_name));
}

void ParamSpace::build(const TestRun& run, const std::vector<std::string>& field_order) {
  const TestDefinition& test = run.test;
  const Value& args = test.cmd_args;
  // Schema fields first, in schema order; then what the schema does not know, in file order.
  std::vector<bool> done(args.size(), false);
  for (const std::string& field : field_order) {
    for (size_t i = 0; i < args.size(); ++i) {
      if (!done[i] && args.keys()[i] == field) {
        collect_cmd_args(args.items()[i], field, test, axes_);
        done[i] = true;
      }
    }
  }
  for (size_t i = 0; i < args.size(); ++i)
    if (!done[i]) collect_cmd_args(args.items()[i], args.keys()[i], test, axes_);

  const Value& env = test.extra_env_vars;
  for (size_t i = 0; i < env.size(); ++i) {
    const Value& v = env.items()[i];
    const std::string& key = env.keys()[i];
    std::string full = "extra_env_vars." + key;
    if (!v.is_array() || excluded(test.dse_excluded_args, full, full)) continue;
    axes_.push_back(make_axis(full, Axis::Target::kEnvVar, key, v, full));
  }

  if (run.num_nodes_is_list) {
    Value list = Value::array(run.loc);
    for (int64_t n : run.num_nodes) list.push_back(Value::integer(n, run.loc));
    axes_.push_back(make_axis("NUM_NODES", Axis::Target::kNumNodes, "", list, "num_nodes"));
  }

  strides_.assign(axes_.size(), 1);
  size_ = 1;
  for (size_t a = axes_.size(); a-- > 0;) {
    strides_[a] = size_;
    uint64_t n = axes_[a].values.size();
    if (size_ > UINT64_MAX / n)
      throw ConfigError(axes_[a].values.front().loc(), axes_[a].name,
                        "the sweep has more than 2^64-1 points; shorten some lists");
    size_ *= n;
  }
}

int ParamSpace::find_axis(std::string_view name) const {
  for (size_t i = 0; i < axes_.size(); ++i)
    if (axes_[i].name == name) return static_cast<int>(i);
  return -1;
}

void ParamSpace::decode(uint64_t point, std::vector<uint32_t>& indices) const {
  indices.resize(axes_.size());
  uint64_t rest = point - 1;
  for (size_t a = 0; a < axes_.size(); ++a) {
    indices[a] = static_cast<uint32_t>(rest / strides_[a]);
    rest %= strides_[a];
  }
}

uint64_t ParamSpace::encode(const std::vector<uint32_t>& indices) const {
  uint64_t p = 0;
  for (size_t a = 0; a < axes_.size(); ++a) p += indices[a] * strides_[a];
  return p + 1;
}

uint64_t ParamSpace::canonical_key(const std::vector<uint32_t>& indices) const {
  uint64_t p = 0;
  for (size_t a = 0; a < axes_.size(); ++a) p += axes_[a].canonical[indices[a]] * strides_[a];
  return p + 1;
}

Action ParamSpace::action(uint64_t point) const {
  std::vector<uint32_t> idx;
  decode(point, idx);
  return action_of(idx);
}

Action ParamSpace::action_of(const std::vector<uint32_t>& indices) const {
  Action out;
  out.reserve(axes_.size());
  for (size_t a = 0; a < axes_.size(); ++a)
    out.emplace_back(axes_[a].name, axes_[a].values[indices[a]]);
  return out;
}

TestRun apply_point(const TestRun& base, const ParamSpace& space, uint64_t point) {
  std::vector<uint32_t> idx;
  space.decode(point, idx);
  return apply_indices(base, space, idx);
}

TestRun apply_indices(const TestRun& base, const ParamSpace& space,
                      const std::vector<uint32_t>& indices) {
  TestRun run = base;
  Value* raw_args = run.test.raw.is_table() ? run.test.raw.find("cmd_args") : nullptr;
  Value* raw_env = run.test.raw.is_table() ? run.test.raw.find("extra_env_vars") : nullptr;
  for (size_t a = 0; a < space.axes().size(); ++a) {
    const Axis& axis = space.axes()[a];
    const Value& v = axis.values[indices[a]];
    switch (axis.target) {
      case Axis::Target::kCmdArg:
        set_path(run.test.cmd_args, axis.key, v);
        if (raw_args && raw_args->is_table()) set_path(*raw_args, axis.key, v);
        break;
      case Axis::Target::kEnvVar:
        run.test.extra_env_vars.set(axis.key, v);
        if (raw_env && raw_env->is_table()) raw_env->set(axis.key, v);
        break;
      case Axis::Target::kNumNodes:
        run.num_nodes = {v.as_int()};
        break;
    }
  }
  run.num_nodes_is_list = false;
  if (run.num_nodes.size() > 1) run.num_nodes.resize(1);
  return run;
}

PointCursor::PointCursor(const ParamSpace& space)
    : space_(space), indices_(space.axes().size(), 0) {}

bool PointCursor::next(size_t& first_changed) {
  if (point_ == 0) {
    point_ = 1;
    first_changed = 0;
    return space_.size() > 0;
  }
  if (point_ >= space_.size()) return false;
  ++point_;
  // Odometer: bump the last axis, carrying leftwards.
  for (size_t a = indices_.size(); a-- > 0;) {
    if (++indices_[a] < space_.axes()[a].values.size()) {
      first_changed = a;
      return true;
    }
    indices_[a] = 0;
  }
  first_changed = 0;
  return true;
}

}  // namespace bp
