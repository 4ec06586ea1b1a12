#include "engine/install.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "testkit/testkit.h"

namespace bp {
namespace {
namespace fs = std::filesystem;

// Makes a throw-away git repository with one commit tagged v1.
fs::path make_repo(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "README") << "hello\n";
  std::string cmd = "cd '" + dir.string() +
                    "' && git init -q && git add README && "
                    "git -c user.email=t@t -c user.name=t commit -qm init && git tag v1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return dir;
}

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    system_.install_path = root_ / "install";
    repo_dir_ = make_repo(root_ / "src" / "Megatron-Bridge");
  }

  testkit::TempDir root_;
  fs::path repo_dir_;
  System system_;
};

TEST_F(InstallTest, ClonesFileUrlAtTagAndUninstalls) {
  Installable repo;
  repo.repo.url = "file://" + repo_dir_.string();
  repo.repo.commit = "v1";
  EXPECT_EQ(installed_path(repo, system_), system_.install_path / "Megatron-Bridge__v1");
  EXPECT_FALSE(is_installed(repo, system_));
  ASSERT_TRUE(install_all({repo}, system_));
  EXPECT_TRUE(fs::exists(system_.install_path / "Megatron-Bridge__v1" / "README"));
  EXPECT_TRUE(is_installed(repo, system_));
  ASSERT_TRUE(install_all({repo}, system_));  // idempotent
  ASSERT_TRUE(uninstall_all({repo}, system_));
  EXPECT_FALSE(fs::exists(system_.install_path / "Megatron-Bridge__v1"));
  EXPECT_TRUE(fs::exists(repo_dir_ / "README"));  // the source is untouched
}

TEST_F(InstallTest, UnknownCommitFailsAndLeavesNothing) {
  Installable repo;
  repo.repo.url = repo_dir_.string();  // a plain local path works too
  repo.repo.commit = "no-such-tag";
  EXPECT_FALSE(install_all({repo}, system_));
  EXPECT_FALSE(fs::exists(system_.install_path / "Megatron-Bridge__no-such-tag"));
  for (const auto& e : fs::directory_iterator(system_.install_path))
    EXPECT_EQ(e.path().filename().string().find(".partial"), std::string::npos) << e.path();
}

// Runs started together on an empty install path must not clone into one shared partial folder
// (both would fail): one clones, the others wait and find it.
TEST_F(InstallTest, ConcurrentInstallsOfTheSameRepoAllSucceed) {
  Installable repo;
  repo.repo.url = "file://" + repo_dir_.string();
  repo.repo.commit = "v1";
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] { ok += install_all({repo}, system_) ? 1 : 0; });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_TRUE(is_installed(repo, system_));
  for (const auto& e : fs::directory_iterator(system_.install_path))
    EXPECT_EQ(e.path().filename().string().find(".partial"), std::string::npos) << e.path();
}

TEST_F(InstallTest, PythonOverrideIsUsedAndNeverRemoved) {
  Installable py;
  py.kind = Installable::Kind::kPythonEnv;
  py.repo.url = "https://github.com/NVIDIA-NeMo/Run.git";
  py.repo.commit = "main";
  EXPECT_EQ(python_of(py, system_), system_.install_path / "Run__main-venv" / "bin" / "python");
  py.python = "/usr/bin/python3";
  EXPECT_EQ(python_of(py, system_), fs::path("/usr/bin/python3"));
  EXPECT_TRUE(install_all({py}, system_));
  EXPECT_TRUE(uninstall_all({py}, system_));
  EXPECT_TRUE(fs::exists("/usr/bin/python3"));
}

}  // namespace
}  // namespace bp
