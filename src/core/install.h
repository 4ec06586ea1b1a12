// Installables: what a test needs on disk before it can run (git clones, container images,
// the Python that runs a launcher) and where each lands. Installing them (running git, pip,
// enroot) is engine/install.h's.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/system.h"
#include "core/test_definition.h"

namespace bp {

struct Installable {
  enum class Kind { kGitRepo, kContainerImage, kPythonEnv };
  Kind kind = Kind::kGitRepo;
  GitRepo repo;        // kGitRepo; for kPythonEnv the repo pip-installed into the venv
  std::string image;   // kContainerImage: registry URL or local .sqsh path
  std::string python;  // kPythonEnv: an existing interpreter to use instead of a venv

  // Identity for de-duplication: kind + url + commit (or image / venv path).
  std::string key() const;
  std::string describe() const;
};

// Where an installable lives (or would live) for a system.
std::filesystem::path installed_path(const Installable& item, const System& system);

// The interpreter to run for a kPythonEnv installable: <venv>/bin/python or the override.
std::filesystem::path python_of(const Installable& item, const System& system);

// A container image given as a local path (".../x.sqsh"), not a registry URL.
bool is_local_image(const std::string& image);

// The venv a kPythonEnv installable without a python override is built in.
std::filesystem::path venv_dir(const Installable& item, const System& system);

// Removes duplicates (same key), keeping the first.
std::vector<Installable> dedup(std::vector<Installable> items);

// Cache file name for a registry image, exactly as CloudAI's DockerImage.cache_filename:
// "nvcr.io/nvidia/nemo:26.02.00" and "nvcr.io#nvidia/nemo:26.02.00" ->
// "nvcr.io_nvidia__nemo__26.02.00.sqsh".
std::string image_cache_filename(const std::string& image);

}  // namespace bp
