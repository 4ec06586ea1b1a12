#include "util/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "util/error.h"
#include "util/strings.h"

extern char** environ;

namespace bp {

std::string ExitStatus::describe() const {
  if (signal != 0) return "signal " + std::to_string(signal);
  return "exit " + std::to_string(code);
}

namespace {

ExitStatus from_wait_status(int st) {
  ExitStatus s;
  if (WIFEXITED(st)) s.code = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) s.signal = WTERMSIG(st);
  return s;
}

// Our environment with `additions` replacing same-named entries, as owned strings.
std::vector<std::string> merged_environment(const EnvAdditions& additions) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [k, v] : additions) replaced |= (k == name);
    if (!replaced) env.emplace_back(entry);
  }
  for (const auto& [k, v] : additions) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// posix_spawn attributes and file actions, released on scope exit.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;

  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
    // A new process group so the whole tree can be signalled; signals back to their defaults
    // (we may ignore SIGPIPE or block signals in the parent).
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// Spawns argv; returns the pid or -1 with errno_out set.
pid_t spawn(const std::vector<std::string>& argv, const EnvAdditions& env,
            const std::filesystem::path& cwd, SpawnSetup& setup, int& errno_out) {
  if (argv.empty()) {
    errno_out = EINVAL;
    return -1;
  }
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&setup.actions, cwd.c_str());
  std::vector<std::string> args(argv.begin(), argv.end());
  std::vector<std::string> env_strings = merged_environment(env);
  std::vector<char*> c_args = c_strings(args);
  std::vector<char*> c_env = c_strings(env_strings);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, c_args[0], &setup.actions, &setup.attr, c_args.data(), c_env.data());
  if (rc != 0) {
    errno_out = rc;
    return -1;
  }
  return pid;
}

void read_available(int& fd, std::string& into) {
  char buf[65536];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) {
    into.append(buf, static_cast<size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    close(fd);
    fd = -1;
  }
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& opts) {
  CommandResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.started = false;
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    result.started = false;
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err_pipe[1], 2);
  int spawn_errno = 0;
  pid_t pid = spawn(argv, opts.env, opts.cwd, setup, spawn_errno);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.started = false;
    result.status.code = 127;
    result.err = (argv.empty() ? std::string("(empty command)") : argv[0]) + ": " +
                 std::strerror(spawn_errno);
    return result;
  }

  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  auto deadline = std::chrono::steady_clock::now() + opts.timeout;
  while (out_fd >= 0 || err_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    pollfd fds[2];
    nfds_t n = 0;
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    int rc = ::poll(fds, n, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (rc < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < n && rc > 0; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (fds[i].fd == out_fd)
        read_available(out_fd, result.out);
      else
        read_available(err_fd, result.err);
    }
  }
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  result.status = from_wait_status(st);
  return result;
}

pid_t start_background(const std::vector<std::string>& argv, const BackgroundOptions& opts) {
  SpawnSetup setup;
  auto target = [](const std::filesystem::path& p) {
    return p.empty() ? std::string("/dev/null") : p.string();
  };
  std::string out_path = target(opts.stdout_path), err_path = target(opts.stderr_path);
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&setup.actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&setup.actions, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int spawn_errno = 0;
  pid_t pid = spawn(argv, opts.env, opts.cwd, setup, spawn_errno);
  if (pid < 0)
    throw Error("cannot start " + (argv.empty() ? std::string("(empty)") : argv[0]) + ": " +
                std::strerror(spawn_errno));
  return pid;
}

std::optional<ExitStatus> try_wait(pid_t pid) {
  int st = 0;
  pid_t rc;
  do {
    rc = waitpid(pid, &st, WNOHANG);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return std::nullopt;
  if (rc < 0) return ExitStatus{-1, 0};
  return from_wait_status(st);
}

std::optional<ExitStatus> try_wait_group(pid_t pid) {
  siginfo_t info{};
  int rc;
  do {
    rc = waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return ExitStatus{-1, 0};
  if (info.si_pid == 0) return std::nullopt;
  // The unreaped leader keeps its pid (and so the group id) from being reused.
  signal_group(pid, SIGKILL);
  return try_wait(pid);
}

void signal_group(pid_t pgid, int sig) {
  if (pgid > 0) kill(-pgid, sig);
}

ExitStatus terminate_group(pid_t pid, std::chrono::milliseconds grace) {
  signal_group(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto st = try_wait(pid)) {
      signal_group(pid, SIGKILL);  // whatever else is left in the group
      return *st;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  signal_group(pid, SIGKILL);
  int st = 0;
  pid_t rc;
  do {
    rc = waitpid(pid, &st, 0);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return ExitStatus{-1, 0};
  return from_wait_status(st);
}

}  // namespace bp
