#include "core/scheduler.h"

#include <cctype>
#include <stdexcept>

#include "util/error.h"
#include "util/strings.h"

namespace bp {

namespace {

bool is_shell_name(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

Error no_batch_scripts(const Scheduler& s) {
  return Error("the " + std::string(s.name()) +
               " scheduler writes no batch scripts (a pre-test gate needs one)");
}

}  // namespace

std::string per_node_output(const PerNodeLaunch& launch, std::string_view stream) {
  if (!is_shell_name(launch.node_variable))
    throw std::logic_error("per-node launch: not a shell variable name: " + launch.node_variable);
  const std::string prefix = (launch.output_dir / (std::string(stream) + "_")).string();
  return shell_quote(prefix) + "\"$" + launch.node_variable + "\".txt";
}

std::string Scheduler::batch_header(const System&, const JobRequest&,
                                    const BatchHeaderExtras&) const {
  throw no_batch_scripts(*this);
}

std::string Scheduler::launch_line(const System&, const JobRequest&, const PerNodeLaunch*) const {
  throw no_batch_scripts(*this);
}

}  // namespace bp
