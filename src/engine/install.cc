#include "engine/install.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/scheduler.h"
#include "util/log.h"
#include "util/strings.h"

namespace bp {
namespace fs = std::filesystem;

namespace {

// Runs a shell command, returning its exit code and combined output.
int run_shell(const std::string& cmd, std::string& output) {
  output.clear();
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string git(const fs::path& repo, const std::string& args) {
  return "git -C " + shell_quote(repo.string()) + " " + args;
}

// True when the clone at `dir` is at `commit` (a sha, tag or branch name).
bool clone_matches(const fs::path& dir, const std::string& commit) {
  std::string head, want, branch;
  if (run_shell(git(dir, "rev-parse HEAD"), head) != 0) return false;
  if (run_shell(git(dir, "rev-parse --abbrev-ref HEAD"), branch) == 0 &&
      std::string(trim(branch)) == commit)
    return true;
  if (run_shell(git(dir, "rev-parse " + shell_quote(commit + "^{commit}")), want) != 0)
    return false;
  return trim(head) == trim(want);
}

// An exclusive flock on <dest>.lock, held while `dest` is installed: two benchpilots started
// together on an empty install path install it once, the second waits and then finds it. The
// kernel releases it when the holder dies in any way.
class InstallLock {
 public:
  explicit InstallLock(const fs::path& dest) {
    fs::path path = dest;
    path += ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return;  // read-only install path: nothing to serialise against
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
    log::info("install: another benchpilot is installing " + dest.string() + "; waiting for it");
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~InstallLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  InstallLock(const InstallLock&) = delete;
  InstallLock& operator=(const InstallLock&) = delete;

 private:
  int fd_ = -1;
};

bool install_repo(const GitRepo& repo, const fs::path& dest) {
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  InstallLock lock(dest);
  if (fs::exists(dest / ".git")) {
    if (clone_matches(dest, repo.commit)) return true;
    log::error("install: " + dest.string() + " exists but is not at commit '" + repo.commit +
               "'. Remove it (benchpilot uninstall) and install again.");
    return false;
  }
  // Clone into a temporary sibling of our own and rename, so an interrupted install leaves no
  // half clone and a concurrent one (without the lock: another host on a shared file system)
  // never clones into the same folder.
  std::string tmp_pattern = dest.string() + ".partial-XXXXXX";
  if (!::mkdtemp(tmp_pattern.data())) {
    log::error("install: cannot create a temporary folder beside " + dest.string() + ": " +
               std::strerror(errno));
    return false;
  }
  const fs::path tmp = tmp_pattern;  // empty: git clones into it
  std::string out;
  log::info("install: cloning " + repo.url + " @ " + repo.commit + " into " + dest.string());
  if (run_shell("git clone --quiet -- " + shell_quote(repo.url) + " " + shell_quote(tmp.string()),
                out) != 0) {
    log::error("install: git clone of " + repo.url + " failed:\n" + out);
    fs::remove_all(tmp, ec);
    return false;
  }
  if (run_shell(git(tmp, "checkout --quiet " + shell_quote(repo.commit)), out) != 0) {
    log::error("install: commit '" + repo.commit + "' not found in " + repo.url + ":\n" + out);
    fs::remove_all(tmp, ec);
    return false;
  }
  if (repo.init_submodules &&
      run_shell(git(tmp, "submodule update --init --recursive --quiet"), out) != 0) {
    log::error("install: submodules of " + repo.url + " failed:\n" + out);
    fs::remove_all(tmp, ec);
    return false;
  }
  fs::rename(tmp, dest, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    if (fs::exists(dest / ".git") && clone_matches(dest, repo.commit)) return true;
    log::error("install: cannot move clone to " + dest.string() + ": " + ec.message());
    return false;
  }
  return true;
}

bool install_python(const Installable& item, const System& system) {
  if (!item.python.empty()) {
    std::string out;
    if (run_shell(shell_quote(item.python) + " -c 'import sys'", out) != 0) {
      log::error("install: launcher_python '" + item.python + "' does not run: " + out);
      return false;
    }
    return true;
  }
  fs::path clone = system.install_path / item.repo.dir_name();
  if (!install_repo(item.repo, clone)) return false;
  fs::path venv = venv_dir(item, system);
  InstallLock lock(venv);
  if (fs::exists(venv / "bin" / "python")) return true;  // a concurrent install made it
  std::string out;
  log::info("install: creating venv " + venv.string() +
            " (needs access to the Python package index;"
            " set launcher_python in the system TOML to use an existing Python instead)");
  if (run_shell("python3 -m venv " + shell_quote(venv.string()), out) != 0 ||
      run_shell(shell_quote((venv / "bin/python").string()) + " -m pip install --quiet " +
                    shell_quote(clone.string()),
                out) != 0) {
    log::error("install: building the NeMo-Run venv failed:\n" + out);
    std::error_code ec;
    fs::remove_all(venv, ec);
    return false;
  }
  return true;
}

bool install_image(const Installable& item, const System& system) {
  if (is_local_image(item.image)) {
    if (fs::exists(item.image)) return true;
    log::error("install: container image " + item.image + " does not exist");
    return false;
  }
  if (!system.cache_docker_images_locally) return true;  // the URL is handed to the launcher
  fs::path dest = installed_path(item, system);
  // On a compute node, where enroot is and where jobs will read the image.
  std::string cmd =
      scheduler_of(system).on_compute_node(system, "benchpilot-image-import",
                                           "enroot import -o " + shell_quote(dest.string()) + " " +
                                               shell_quote("docker://" + item.image));
  std::string out;
  log::info("install: importing " + item.image + " into " + dest.string());
  if (run_shell(cmd, out) != 0) {
    log::error("install: image import failed:\n" + out);
    return false;
  }
  return true;
}

}  // namespace

bool is_installed(const Installable& item, const System& system) {
  switch (item.kind) {
    case Installable::Kind::kGitRepo: {
      fs::path dir = installed_path(item, system);
      return fs::exists(dir / ".git") && clone_matches(dir, item.repo.commit);
    }
    case Installable::Kind::kContainerImage:
      if (is_local_image(item.image)) return fs::exists(item.image);
      return !system.cache_docker_images_locally || fs::exists(installed_path(item, system));
    case Installable::Kind::kPythonEnv:
      return fs::exists(python_of(item, system));
  }
  return false;
}

bool install_all(const std::vector<Installable>& items, const System& system) {
  for (const Installable& item : dedup(items)) {
    if (is_installed(item, system)) {
      log::debug("install: already present: " + item.describe());
      continue;
    }
    bool ok = false;
    switch (item.kind) {
      case Installable::Kind::kGitRepo:
        ok = install_repo(item.repo, installed_path(item, system));
        break;
      case Installable::Kind::kContainerImage:
        ok = install_image(item, system);
        break;
      case Installable::Kind::kPythonEnv:
        ok = install_python(item, system);
        break;
    }
    if (!ok) return false;
    log::info("install: ready: " + item.describe());
  }
  return true;
}

bool uninstall_all(const std::vector<Installable>& items, const System& system) {
  bool ok = true;
  fs::path root = fs::absolute(system.install_path).lexically_normal();
  auto remove_inside = [&](const fs::path& p) {
    fs::path abs = fs::absolute(p).lexically_normal();
    auto rel = abs.lexically_relative(root);
    if (rel.empty() || rel.native().starts_with("..")) return;  // never outside install_path
    std::error_code ec;
    if (fs::exists(abs)) {
      fs::remove_all(abs, ec);
      if (ec) {
        log::error("uninstall: cannot remove " + abs.string() + ": " + ec.message());
        ok = false;
      } else {
        log::info("uninstall: removed " + abs.string());
      }
    }
  };
  for (const Installable& item : dedup(items)) {
    switch (item.kind) {
      case Installable::Kind::kGitRepo:
        remove_inside(installed_path(item, system));
        break;
      case Installable::Kind::kContainerImage:
        if (!is_local_image(item.image) && system.cache_docker_images_locally)
          remove_inside(installed_path(item, system));
        break;
      case Installable::Kind::kPythonEnv:
        if (item.python.empty()) {
          remove_inside(venv_dir(item, system));
          remove_inside(system.install_path / item.repo.dir_name());
        }
        break;
    }
  }
  return ok;
}

}  // namespace bp
