#include "workloads/megatron_bridge/wrapper.h"

#include <fstream>
#include <map>
#include <stdexcept>

#include "util/error.h"
#include "util/files.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/embedded_scripts.h"

namespace bp::mbridge {

namespace fs = std::filesystem;

namespace {

std::string pip_step(const std::string& python) {
  return "\nPIP_RC=0\n" + shell_quote(python) +
         " -m pip install wandb numpy==1.26.4 >>\"$LOG\" 2>&1 || PIP_RC=$?\n"
         "if [ \"$PIP_RC\" -ne 0 ]; then\n"
         "  echo \"Installing wandb and numpy==1.26.4 into the launcher venv failed (exit "
         "$PIP_RC). Last lines of $LOG:\" >&2\n"
         "  tail -n 40 \"$LOG\" >&2\n"
         "  exit \"$PIP_RC\"\n"
         "fi\n";
}

std::string secret_check(const SecretFlag& f) {
  std::string var(f.env_var);
  std::string how = f.env_var == "HF_TOKEN" ? "set cmd_args.hf_token" : "set cmd_args.wandb_key";
  return "if [ -z \"${" + var + ":-}\" ]; then\n  echo \"" + var +
         " is not set in the environment of this script. Export " + var + " (recommended) or " +
         how +
         ", and run it through benchpilot, which passes it without writing it to a file or a "
         "command line.\" >&2\n  exit 1\nfi\n";
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size()))
    text.replace(p, from.size(), to);
}

// The template with each "#@NAME@" line replaced by blocks[NAME] (text ending in a newline, or
// nothing) and each inline @NAME@ by words[NAME], in one pass: a filled-in value is never
// searched again, so a path holding "@LOG@" stays a path.
std::string fill_template(std::string_view text, const std::map<std::string, std::string>& blocks,
                          const std::map<std::string, std::string>& words) {
  std::string out;
  for (const std::string& line : split(std::string(text), '\n')) {
    if (line.size() > 3 && line.starts_with("#@") && line.ends_with("@")) {
      out += blocks.at(line.substr(2, line.size() - 3));
      continue;
    }
    for (size_t p = 0; p < line.size();) {
      size_t open = line.find('@', p), close = std::string::npos;
      if (open != std::string::npos) close = line.find('@', open + 1);
      auto it = close == std::string::npos ? words.end()
                                           : words.find(line.substr(open + 1, close - open - 1));
      if (it == words.end()) {
        out += line.substr(p, open == std::string::npos ? std::string::npos : open + 1 - p);
        p = open == std::string::npos ? line.size() : open + 1;
        continue;
      }
      out += line.substr(p, open - p) + it->second;
      p = close + 1;
    }
    out += '\n';
  }
  out.pop_back();  // split() gave one more line than there were newlines
  return out;
}

void write_file(const fs::path& path, const std::string& text) {
  write_file_atomic(path, text);
}

}  // namespace

std::string secret_reference(const SecretFlag& f) {
  return "\"$" + std::string(f.env_var) + "\"";
}

bool is_container_runtime_var(std::string_view name) {
  return name == "MELLANOX_VISIBLE_DEVICES" || name == "NVIDIA_VISIBLE_DEVICES" ||
         name == "NVIDIA_DRIVER_CAPABILITIES";
}

std::string helper_script() {
  std::vector<std::string> vars;
  for (const SecretFlag& f : kSecretFlags) vars.emplace_back(f.env_var);
  std::string text(kLauncherHelper);
  replace_all(text, "@SECRET_VARS@", join(vars, ","));
  replace_all(text, "@MASK@", kSecretMask);
  replace_all(text, "@MIN_LENGTH@", std::to_string(kMinSecretLength));
  return text;
}

std::string wrapper_script(const WrapperInputs& in) {
  // Secret flags leave the argument list; the helper appends them from the environment.
  std::vector<const SecretFlag*> secrets;
  std::vector<std::string> args;
  for (size_t i = 0; i < in.launcher_arguments.size(); ++i) {
    const std::string& word = in.launcher_arguments[i];
    const SecretFlag* flag = nullptr;
    for (const SecretFlag& f : kSecretFlags)
      if (word == f.flag) flag = &f;
    if (!flag) {
      args.push_back(word);
      continue;
    }
    if (i + 1 >= in.launcher_arguments.size() ||
        in.launcher_arguments[i + 1] != secret_reference(*flag))
      throw ValueError(std::string(flag->flag) + " must be followed by " + secret_reference(*flag));
    secrets.push_back(flag);
    ++i;
  }

  auto file = [&](std::string_view name) { return shell_quote((in.run_dir / name).string()); };
  std::map<std::string, std::string> words = {{"RUN_DIR", shell_quote(in.run_dir.string())},
                                              {"LOG", file(kLauncherLog)},
                                              {"PYTHON", shell_quote(in.python)},
                                              {"HELPER", file(kHelperFile)},
                                              {"STDOUT", file(kWrapperStdout)},
                                              {"STDERR", file(kWrapperStderr)}};
  std::string exports;
  for (const auto& [key, value] : in.runtime_exports)
    exports += "export " + key + "=" + shell_quote(value) + "\n";
  std::string checks;
  for (const SecretFlag* f : secrets) checks += secret_check(*f);
  std::string launch;
  for (const SecretFlag* f : secrets)
    launch += " " + std::string(f->flag) + "=" + std::string(f->env_var);
  launch += " -- " + shell_quote(in.launcher_script.string());
  for (const std::string& w : args) launch += " " + w;
  words["LAUNCH_ARGS"] = launch;
  std::map<std::string, std::string> blocks = {
      {"EXPORTS", exports.empty() ? "" : "\n" + exports},
      {"SECRET_CHECKS", checks.empty() ? "" : "\n" + checks},
      {"PRE_LAUNCH", in.pre_launch},
      {"PIP_STEP", in.pip_python.empty() ? "" : pip_step(in.pip_python)}};
  return fill_template(kLauncherWrapper, blocks, words);
}

std::string write_wrapper_files(const WrapperInputs& in) {
  fs::path wrapper = fs::absolute(in.run_dir / kWrapperFile);
  write_file(wrapper, wrapper_script(in));
  fs::permissions(wrapper, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);
  write_file(in.run_dir / kHelperFile, helper_script());
  std::string command = "bash " + shell_quote(wrapper.string());
  write_file(in.run_dir / kCommandFile, command + "\n");
  return command;
}

}  // namespace bp::mbridge
