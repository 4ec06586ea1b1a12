#include "util/time_format.h"

#include <gtest/gtest.h>

#include "testkit/testkit.h"

namespace bp {
namespace {

TEST(FormatTime, UtcAndLocalFollowTheZone) {
  EXPECT_EQ(format_time(0, "%Y-%m-%dT%H:%M:%SZ", TimeZone::kUtc), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_time(86400 + 3661, "%Y-%m-%d_%H-%M-%S", TimeZone::kUtc), "1970-01-02_01-01-01");
  {
    testkit::ScopedEnv tz("TZ", "UTC-2");  // two hours east of UTC
    tzset();
    EXPECT_EQ(format_time(0, "%Y-%m-%d %H:%M:%S"), "1970-01-01 02:00:00");
  }
  tzset();  // back to the process's zone for the other tests
}

}  // namespace
}  // namespace bp
