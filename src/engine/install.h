// Installing what the tests need (core/install.h's Installables): cloning git repositories,
// building the launcher's venv, importing container images on a compute node. These are the
// acts; where each lands and what an installable is are decided in core/install.h.
#pragma once

#include <vector>

#include "core/install.h"
#include "core/system.h"

namespace bp {

// Whether `item` is already in place (a clone at its commit, a venv, a cached image).
bool is_installed(const Installable& item, const System& system);

// Installs missing items (clones and checks out repos, builds venvs, imports images).
// Returns false and logs a clear message on the first failure.
bool install_all(const std::vector<Installable>& items, const System& system);

// Removes what install_all created. Never touches paths outside install_path, nor user paths
// such as a local .sqsh image or a python override.
bool uninstall_all(const std::vector<Installable>& items, const System& system);

}  // namespace bp
