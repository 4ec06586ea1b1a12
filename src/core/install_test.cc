#include "core/install.h"

#include <gtest/gtest.h>

namespace bp {
namespace {
namespace fs = std::filesystem;

TEST(ImageTest, CacheNamesAndLocalImages) {
  EXPECT_EQ(image_cache_filename("nvcr.io#nvidia/nemo:26.02.00"),
            "nvcr.io_nvidia__nemo__26.02.00.sqsh");
  EXPECT_EQ(image_cache_filename("docker://ubuntu"), "ubuntu__notag.sqsh");
  // The case: a "/"-separated registry path is cached under CloudAI's name.
  EXPECT_EQ(image_cache_filename("nvcr.io/nvidia/nemo:26.02.00"),
            "nvcr.io_nvidia__nemo__26.02.00.sqsh");
  // CloudAI's own table (tests/core/installables/test_docker_image.py).
  const std::pair<const char*, const char*> cloudai_cases[] = {
      {"http://fake_url/img", "fake_url__img__notag.sqsh"},
      {"nvcr.io#nvidia/pytorch:24.02-py3", "nvcr.io_nvidia__pytorch__24.02-py3.sqsh"},
      {"/local/disk/file", "file__notag.sqsh"},
      {"/local/disk/file:tag", "file__tag.sqsh"},
      {"./local/disk/file:tag", "file__tag.sqsh"},
      {"ditdab.com#org/team/image:latest", "ditdab.com_org_team__image__latest.sqsh"},
      {"registry.invalid.com:5000#group/project", "registry.invalid.com__5000_group_project.sqsh"},
      {"registry.invalid:5050#group/project:latest",
       "registry.invalid:5050_group__project__latest.sqsh"},
      {"registry.invalid:5051#team/proj/image.v1",
       "registry.invalid__5051_team_proj_image.v1.sqsh"},
      {"nvcr.io/nvidia#nemo:24.07", "nvcr.io__nvidia_nemo__24.07.sqsh"},
  };
  for (const auto& [url, expected] : cloudai_cases)
    EXPECT_EQ(image_cache_filename(url), expected) << url;
  System s;
  s.install_path = "/opt/inst";
  Installable img;
  img.kind = Installable::Kind::kContainerImage;
  img.image = "nvcr.io#nvidia/nemo:26.02.00";
  EXPECT_EQ(installed_path(img, s), fs::path("nvcr.io#nvidia/nemo:26.02.00"));
  s.cache_docker_images_locally = true;
  EXPECT_EQ(installed_path(img, s), fs::path("/opt/inst/nvcr.io_nvidia__nemo__26.02.00.sqsh"));
  img.image = "/images/nemo.sqsh";
  EXPECT_EQ(installed_path(img, s), fs::path("/images/nemo.sqsh"));
}

TEST(DedupTest, KeepsFirstOfSameUrlAndCommit) {
  Installable a, b, c;
  a.repo = {"u", "c1"};
  b.repo = {"u", "c1"};
  c.repo = {"u", "c2"};
  EXPECT_EQ(dedup({a, b, c}).size(), 2u);
}

}  // namespace
}  // namespace bp
