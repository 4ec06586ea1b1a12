#include "core/test_definition.h"

namespace bp {

std::string GitRepo::repo_name() const {
  std::string u = url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  size_t slash = u.find_last_of("/:");
  std::string name = slash == std::string::npos ? u : u.substr(slash + 1);
  if (name.size() > 4 && name.ends_with(".git")) name.resize(name.size() - 4);
  return name;
}

}  // namespace bp
