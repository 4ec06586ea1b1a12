// Slurm host lists ("node0[1-3],login1") and the node specs of a scenario case.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/system.h"
#include "systems/slurm/slurm_system.h"
#include "util/error.h"

namespace bp {

class CommandRunner;

// Expands a Slurm host list: commas split items outside brackets, each bracket holds numbers
// and ranges, several bracket groups multiply ("r[1-2]n[1-2]" -> r1n1 r1n2 r2n1 r2n2). A range
// written with leading zeros is zero-padded to the width of its end ("node[08-10]" -> node08
// node09 node10); without them no padding is added, as Slurm does ("node[9-10]" -> node9
// node10). Throws ValueError on unbalanced brackets or bad ranges.
std::vector<std::string> expand_node_list(std::string_view list);

// Resolves a case's `nodes` entries to node names (sorted, without duplicates). Each entry is
// either a host list, or "PARTITION:GROUP:N" / "PARTITION:GROUP:max_avail": N nodes of that
// group of the system TOML (slurm_settings(system).partitions), preferring idle nodes (then
// completing, mixed, allocated, reserved; down or drained nodes are never picked) as one `sinfo`
// call reports them. Throws ValueError naming the entry when the partition or group is
// unknown or has too few usable nodes. An empty list resolves to an empty list.
std::vector<std::string> resolve_nodes(const System& system, const std::vector<std::string>& specs);
std::vector<std::string> resolve_nodes(const System& system, const std::vector<std::string>& specs,
                                       CommandRunner& runner);

}  // namespace bp
