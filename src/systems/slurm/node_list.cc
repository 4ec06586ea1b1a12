#include "systems/slurm/node_list.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>

#include "systems/slurm/command_runner.h"
#include "systems/slurm/slurm_system.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {

namespace {

// Splits on commas that are not inside brackets.
std::vector<std::string_view> split_top_level(std::string_view list) {
  std::vector<std::string_view> items;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= list.size(); ++i) {
    if (i == list.size() || (list[i] == ',' && depth == 0)) {
      std::string_view item = trim(list.substr(start, i - start));
      if (!item.empty()) items.push_back(item);
      start = i + 1;
    } else if (list[i] == '[') {
      ++depth;
    } else if (list[i] == ']') {
      if (--depth < 0) throw ValueError("unbalanced ']' in node list '" + std::string(list) + "'");
    }
  }
  if (depth != 0) throw ValueError("unbalanced '[' in node list '" + std::string(list) + "'");
  return items;
}

unsigned long long to_number(std::string_view s, std::string_view list) {
  if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      }))
    throw ValueError("bad number '" + std::string(s) + "' in node list '" + std::string(list) +
                     "'");
  return std::stoull(std::string(s));
}

std::string padded(unsigned long long n, size_t width) {
  std::string s = std::to_string(n);
  if (s.size() < width) s.insert(0, width - s.size(), '0');
  return s;
}

constexpr size_t kMaxExpandedNodes = 200000;
constexpr size_t kMaxExpandedBytes = 16 * 1024 * 1024;

// The names a bracket body ("1-3,7,09-10") stands for.
std::vector<std::string> expand_brackets(std::string_view body, std::string_view list) {
  std::vector<std::string> out;
  for (const std::string& part : split(body, ',')) {
    std::string_view p = trim(part);
    size_t dash = p.find('-');
    if (dash == std::string_view::npos) {
      to_number(p, list);
      out.emplace_back(p);
      continue;
    }
    std::string_view lo = trim(p.substr(0, dash)), hi = trim(p.substr(dash + 1));
    unsigned long long a = to_number(lo, list), b = to_number(hi, list);
    if (a > b)
      throw ValueError("range '" + std::string(p) + "' runs backwards in node list '" +
                       std::string(list) + "'");
    if (b - a > 100000)
      throw ValueError("range '" + std::string(p) + "' is too large in node list '" +
                       std::string(list) + "'");
    size_t width = (lo.size() > 1 && lo[0] == '0') ? std::max(lo.size(), hi.size()) : 0;
    for (unsigned long long i = a; i <= b; ++i) out.push_back(padded(i, width));
    if (out.size() > kMaxExpandedNodes)
      throw ValueError("node list '" + std::string(list.substr(0, 200)) + "' names more than " +
                       std::to_string(kMaxExpandedNodes) + " nodes");
  }
  return out;
}

// A host list names at most this many nodes, in at most this many bytes: "r[1-99999]n[1-99999]"
// would otherwise ask for 10^10 names, and a long prefix times many names for gigabytes (found
// by fuzz_node_list). The largest clusters have tens of thousands of nodes.

struct ExpandBudget {
  size_t bytes = 0;
  void add(size_t n, std::string_view list) {
    bytes += n;
    if (bytes > kMaxExpandedBytes)
      throw ValueError("node list '" + std::string(list.substr(0, 200)) +
                       "' expands to more than 16 MiB of names");
  }
};

void too_many(std::string_view list) {
  throw ValueError("node list '" + std::string(list.substr(0, 200)) + "' names more than " +
                   std::to_string(kMaxExpandedNodes) + " nodes");
}

void expand_item(std::string_view item, std::string_view list, std::vector<std::string>& out,
                 ExpandBudget& budget) {
  size_t open = item.find('[');
  if (open == std::string_view::npos) {
    if (out.size() >= kMaxExpandedNodes) too_many(list);
    budget.add(item.size(), list);
    out.emplace_back(item);
    return;
  }
  size_t close = item.find(']', open);
  std::string prefix(item.substr(0, open));
  std::vector<std::string> mids = expand_brackets(item.substr(open + 1, close - open - 1), list);
  // The rest is expanded once, and the size of the product checked before it is built, so
  // "a[1-800]b[1-800]c[1-800]" costs nothing (a fuzz_node_list timeout).
  std::vector<std::string> tails;
  expand_item(item.substr(close + 1), list, tails, budget);
  if (tails.empty()) tails.emplace_back();
  if (mids.size() * tails.size() > kMaxExpandedNodes - std::min(out.size(), kMaxExpandedNodes))
    too_many(list);
  for (const std::string& mid : mids)
    for (const std::string& t : tails) {
      budget.add(prefix.size() + mid.size() + t.size(), list);
      out.push_back(prefix + mid + t);
    }
}

// Lower rank = preferred; -1 = never picked.
int state_rank(std::string_view state) {
  std::string s;
  for (char c : state)
    if (std::isalpha(static_cast<unsigned char>(c))) s += static_cast<char>(std::tolower(c));
  if (s == "idle") return 0;
  if (s == "comp" || s == "completing") return 1;
  if (s == "mix" || s == "mixed") return 2;
  if (s == "alloc" || s == "allocated") return 3;
  if (s == "resv" || s == "reserved" || s == "plnd" || s == "planned") return 4;
  return -1;
}

struct GroupSpec {
  std::string partition, group;
  int count = 0;  // -1: max_avail
};

std::optional<GroupSpec> parse_group_spec(std::string_view spec) {
  auto parts = split(spec, ':');
  if (parts.size() != 3) return std::nullopt;
  GroupSpec g{parts[0], parts[1], 0};
  if (parts[2] == "max_avail") {
    g.count = -1;
  } else {
    if (parts[2].empty() || parts[2].size() > 6 ||
        !std::all_of(parts[2].begin(), parts[2].end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      throw ValueError("node spec '" + std::string(spec) +
                       "': expected PARTITION:GROUP:N with N a number or max_avail");
    g.count = std::stoi(parts[2]);
  }
  return g;
}

const NodeGroup& find_group(const System& system, const GroupSpec& g, std::string_view spec) {
  std::vector<std::string> known;
  for (const Partition& p : slurm_settings(system).partitions) {
    if (p.name != g.partition) {
      known.push_back(p.name);
      continue;
    }
    std::vector<std::string> groups;
    for (const NodeGroup& grp : p.groups) {
      if (grp.name == g.group) return grp;
      groups.push_back(grp.name);
    }
    throw ValueError("node spec '" + std::string(spec) + "': partition '" + g.partition +
                     "' has no group '" + g.group + "' (groups: " + join(groups, ", ") + ")");
  }
  throw ValueError("node spec '" + std::string(spec) + "': system '" + system.name +
                   "' has no partition '" + g.partition + "' (partitions: " + join(known, ", ") +
                   ")");
}

// Node name -> best state rank from one `sinfo -N` call; empty when sinfo is unavailable.
std::map<std::string, int> node_ranks(CommandRunner& runner) {
  CommandOptions opts;
  opts.timeout = std::chrono::seconds(60);
  CommandResult r = runner.run({"sinfo", "-h", "-N", "-o", "%N|%t"}, opts);
  std::map<std::string, int> ranks;
  if (!r.ok()) {
    log::warn("sinfo failed (" + std::string(trim(r.err)) +
              "); picking group nodes in the order of the system TOML");
    return ranks;
  }
  for (const std::string& line : split(r.out, '\n')) {
    auto f = split(trim(line), '|');
    if (f.size() < 2) continue;
    int rank = state_rank(f[1]);
    auto [it, inserted] = ranks.emplace(f[0], rank);
    if (!inserted && rank >= 0 && (it->second < 0 || rank < it->second)) it->second = rank;
  }
  return ranks;
}

}  // namespace

std::vector<std::string> expand_node_list(std::string_view list) {
  std::vector<std::string> out;
  ExpandBudget budget;
  for (std::string_view item : split_top_level(list)) expand_item(item, list, out, budget);
  return out;
}

std::vector<std::string> resolve_nodes(const System& system,
                                       const std::vector<std::string>& specs) {
  SystemCommandRunner runner;
  return resolve_nodes(system, specs, runner);
}

std::vector<std::string> resolve_nodes(const System& system, const std::vector<std::string>& specs,
                                       CommandRunner& runner) {
  std::set<std::string> chosen;
  std::optional<std::map<std::string, int>> ranks;  // sinfo is asked once, when needed
  for (const std::string& spec : specs) {
    std::optional<GroupSpec> g = parse_group_spec(spec);
    if (!g) {
      for (std::string& n : expand_node_list(spec)) chosen.insert(std::move(n));
      continue;
    }
    const NodeGroup& group = find_group(system, *g, spec);
    if (!ranks) ranks = node_ranks(runner);
    struct Candidate {
      int rank;
      size_t order;
      std::string name;
    };
    std::vector<Candidate> candidates;
    size_t order = 0;
    for (const std::string& range : group.nodes) {
      for (std::string& n : expand_node_list(range)) {
        int rank = 0;
        if (!ranks->empty()) {
          auto it = ranks->find(n);
          rank = it == ranks->end() ? -1 : it->second;
        }
        if (rank >= 0 && !chosen.count(n)) candidates.push_back({rank, order++, std::move(n)});
      }
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.rank < b.rank; });
    size_t want = g->count;
    if (g->count < 0) {  // max_avail: every idle node
      want = static_cast<size_t>(std::count_if(candidates.begin(), candidates.end(),
                                               [](const Candidate& c) { return c.rank == 0; }));
      if (want == 0)
        throw ValueError("node spec '" + spec + "': no idle node in group '" + g->group + "'");
    }
    if (candidates.size() < want)
      throw ValueError("node spec '" + spec + "': asks for " + std::to_string(want) +
                       " nodes but group '" + g->group + "' has only " +
                       std::to_string(candidates.size()) + " usable");
    for (size_t i = 0; i < want; ++i) chosen.insert(candidates[i].name);
  }
  return {chosen.begin(), chosen.end()};
}

}  // namespace bp
