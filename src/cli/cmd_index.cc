// benchpilot index DIR...: (re)builds the results store from results folders, benchpilot's and
// CloudAI's. Also where the store path is resolved for history and compare.
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "loaders/load_system.h"
#include "store/indexer.h"
#include "store/store.h"
#include "util/error.h"
#include "util/log.h"

namespace bp {

namespace fs = std::filesystem;

std::optional<fs::path> named_store_path(const std::string& store) {
  if (!store.empty()) return fs::absolute(store);
  if (const char* s = std::getenv("BENCHPILOT_STORE"); s && *s) return fs::absolute(s);
  return std::nullopt;
}

fs::path resolve_store_path(const StoreLocation& where) {
  if (auto named = named_store_path(where.store)) return *named;
  std::string config = where.system_config;
  for (const char* var : {"BENCHPILOT_SYSTEM_CONFIG", "CLOUDAI_SYSTEM_CONFIG"})
    if (const char* v = std::getenv(var); config.empty() && v && *v) config = v;
  if (config.empty())
    throw Error(
        "no results store given: pass --store PATH, set BENCHPILOT_STORE, or name the system "
        "with --system-config (its output_path holds benchpilot.db)");
  return default_store_path(load_system(config).output_path);
}

int cmd_index(const StoreLocation& where, const std::vector<std::string>& dirs,
              const std::string& system_name) {
  const fs::path path = resolve_store_path(where);
  auto store = open_sqlite_store(path);
  IndexContext ctx;
  ctx.system_name = system_name;
  size_t folders = 0, runs = 0;
  for (const std::string& d : dirs) {
    std::vector<fs::path> found = find_results_folders(d);
    if (found.empty()) log::warn(d + ": no results folder found");
    for (const fs::path& root : found) {
      std::vector<StoredRun> rs = runs_from_results_folder(root, ctx);
      store->record(rs);
      ++folders;
      runs += rs.size();
      log::info("indexed " + root.string() + ": " + std::to_string(rs.size()) + " run(s)");
    }
  }
  std::cout << "Indexed " << runs << " run(s) from " << folders << " results folder(s) into "
            << path.string() << " (" << store->count() << " runs stored)\n";
  return folders == 0 ? 1 : 0;
}

}  // namespace bp
