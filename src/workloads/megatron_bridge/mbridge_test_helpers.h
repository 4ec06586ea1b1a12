// Test-only helpers: build MegatronBridge test definitions from TOML text.
#pragma once

#include <string>
#include <string_view>

#include "config/toml_reader.h"
#include "core/test_definition.h"

namespace bp::mbridge::testing {

// A test TOML's fields that these tests use: name, cmd_args, git_repos, extra_env_vars,
// extra_cmd_args, extra_container_mounts. Locations point into "test.toml".
inline TestDefinition test_from_toml(std::string_view text) {
  Value doc = read_toml_string(text, "test.toml");
  TestDefinition t;
  t.loc = SourceLoc{"test.toml", 1};
  t.test_template_name = "MegatronBridge";
  if (const Value* v = doc.find("name")) t.name = v->as_string();
  if (const Value* v = doc.find("cmd_args")) t.cmd_args = *v;
  if (const Value* v = doc.find("extra_env_vars")) t.extra_env_vars = *v;
  if (const Value* v = doc.find("extra_cmd_args"))
    for (size_t i = 0; i < v->size(); ++i)
      t.extra_cmd_args.emplace_back(v->keys()[i], v->items()[i].to_plain_string());
  if (const Value* v = doc.find("extra_container_mounts"))
    for (const Value& m : v->items()) t.extra_container_mounts.push_back(m.as_string());
  if (const Value* v = doc.find("git_repos")) {
    for (const Value& r : v->items()) {
      GitRepo repo;
      repo.loc = r.loc();
      if (const Value* f = r.find("url")) repo.url = f->as_string();
      if (const Value* f = r.find("commit")) repo.commit = f->as_string();
      if (const Value* f = r.find("mount_as")) repo.mount_as = f->as_string();
      t.git_repos.push_back(repo);
    }
  }
  t.raw = doc;
  return t;
}

// A pinned Megatron-Bridge repo entry.
inline constexpr std::string_view kRepo = R"(
[[git_repos]]
url = "https://github.com/NVIDIA-NeMo/Megatron-Bridge.git"
commit = "v0.3.0"
)";

// A valid test: name, `extra_toml` (top-level keys and tables), the pinned repo, then
// [cmd_args] with the model names followed by `cmd_args_lines`.
inline TestDefinition test_with_args(std::string_view cmd_args_lines,
                                     std::string_view extra_toml = "") {
  std::string text = "name = \"mb\"\n";
  text += extra_toml;
  text += kRepo;
  text += "\n[cmd_args]\nmodel_family_name = \"qwen3\"\nmodel_recipe_name = \"30b_a3b\"\n";
  text += cmd_args_lines;
  return test_from_toml(text);
}

}  // namespace bp::mbridge::testing
