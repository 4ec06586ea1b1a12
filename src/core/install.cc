#include "core/install.h"

#include <set>

#include "util/strings.h"

namespace bp {
namespace fs = std::filesystem;

bool is_local_image(const std::string& image) {
  return !image.empty() && (image[0] == '/' || image[0] == '.');
}

fs::path venv_dir(const Installable& item, const System& system) {
  return system.install_path / (item.repo.dir_name() + "-venv");
}

std::string Installable::key() const {
  switch (kind) {
    case Kind::kGitRepo:
      return "git:" + repo.url + "@" + repo.commit;
    case Kind::kContainerImage:
      return "image:" + image;
    case Kind::kPythonEnv:
      return "python:" + (python.empty() ? repo.url + "@" + repo.commit : python);
  }
  return "";
}

std::string Installable::describe() const {
  switch (kind) {
    case Kind::kGitRepo:
      return "git repo " + repo.url + " @ " + repo.commit;
    case Kind::kContainerImage:
      return "container image " + image;
    case Kind::kPythonEnv:
      return python.empty() ? "NeMo-Run venv (" + repo.url + " @ " + repo.commit + ")"
                            : "launcher python " + python;
  }
  return "";
}

// CloudAI's DockerImage.cache_filename, step by step, so that an image CloudAI already cached
// under install_path is found (its own test table is in install_test.cc).
std::string image_cache_filename(const std::string& image) {
  bool is_local = image.starts_with("/") || image.starts_with(".");
  std::string rest = image;
  if (size_t p = rest.find("://"); p != std::string::npos) rest = rest.substr(p + 3);
  std::string tag = "notag";
  std::string without_tag = rest;
  if (size_t c = rest.rfind(':'); c != std::string::npos) {
    tag = rest.substr(c + 1);
    without_tag = rest.substr(0, c);
  }
  std::string name;
  if (is_local) {
    size_t slash = without_tag.rfind('/');
    name = slash == std::string::npos ? without_tag : without_tag.substr(slash + 1);
  } else {
    // "a/b/c" -> "a_b__c": registry path parts joined by "_", the image name after "__".
    std::vector<std::string> parts = split(without_tag, '/');
    if (parts.empty()) parts.emplace_back();
    std::vector<std::string> head(parts.begin(), parts.end() - 1);
    name = join(head, "_") + "__" + parts.back();
  }
  std::string path = name + "__" + tag + ".sqsh";
  for (char& ch : path)
    if (ch == '/' || ch == '#') ch = '_';
  size_t first = path.find_first_not_of('_');
  size_t last = path.find_last_not_of('_');
  return first == std::string::npos ? std::string() : path.substr(first, last - first + 1);
}

fs::path installed_path(const Installable& item, const System& system) {
  switch (item.kind) {
    case Installable::Kind::kGitRepo:
      return system.install_path / item.repo.dir_name();
    case Installable::Kind::kContainerImage:
      if (is_local_image(item.image)) return fs::absolute(item.image).lexically_normal();
      if (system.cache_docker_images_locally)
        return system.install_path / image_cache_filename(item.image);
      return item.image;
    case Installable::Kind::kPythonEnv:
      return item.python.empty() ? venv_dir(item, system) : fs::path(item.python);
  }
  return {};
}

fs::path python_of(const Installable& item, const System& system) {
  if (!item.python.empty()) return item.python;
  return venv_dir(item, system) / "bin" / "python";
}

std::vector<Installable> dedup(std::vector<Installable> items) {
  std::set<std::string> seen;
  std::vector<Installable> out;
  for (auto& item : items)
    if (seen.insert(item.key()).second) out.push_back(std::move(item));
  return out;
}

}  // namespace bp
