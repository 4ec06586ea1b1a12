#include "config/time_limit.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "util/error.h"

namespace bp {
namespace {

TEST(TimeLimitTest, UnitSuffixes) {
  EXPECT_EQ(normalize_time_limit("30s"), "00:00:30");
  EXPECT_EQ(normalize_time_limit("10m"), "00:10:00");
  EXPECT_EQ(normalize_time_limit("90m"), "01:30:00");
  EXPECT_EQ(normalize_time_limit("5h"), "05:00:00");
  EXPECT_EQ(normalize_time_limit("24h"), "1-00:00:00");
  EXPECT_EQ(normalize_time_limit("2d"), "2-00:00:00");
  EXPECT_EQ(normalize_time_limit("1w"), "7-00:00:00");
  EXPECT_EQ(normalize_time_limit("2H"), "02:00:00");
}

TEST(TimeLimitTest, ClockForms) {
  EXPECT_EQ(normalize_time_limit("00:20:00"), "00:20:00");
  EXPECT_EQ(normalize_time_limit("12:30"), "12:30:00");  // hours:minutes, as CloudAI
  EXPECT_EQ(normalize_time_limit("1-12:00:00"), "1-12:00:00");
  EXPECT_EQ(normalize_time_limit("0-01:02:03"), "01:02:03");
  EXPECT_EQ(normalize_time_limit("36:00:00"), "1-12:00:00");
  EXPECT_EQ(normalize_time_limit(" 00:05:00 "), "00:05:00");
}

TEST(TimeLimitTest, BareNumberIsMinutes) {
  EXPECT_EQ(normalize_time_limit("45"), "00:45:00");
  EXPECT_EQ(normalize_time_limit("1440"), "1-00:00:00");
}

TEST(TimeLimitTest, Seconds) {
  EXPECT_EQ(time_limit_seconds("00:20:00"), 1200);
  EXPECT_EQ(time_limit_seconds("2-01:00:05"), 2 * 86400 + 3605);
  EXPECT_EQ(time_limit_seconds("1w"), 7 * 86400);
  EXPECT_EQ(format_time_limit(86399), "23:59:59");
}

TEST(TimeLimitTest, InvalidFormsListAcceptedOnes) {
  for (const char* bad : {"", "abc", "10x", "m", "-5m", "1:2:3:4", "1-12:00", "1-2", "a-00:00:00",
                          "12:", ":30", "1.5h", "10 m", "99999999999m"}) {
    try {
      normalize_time_limit(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const ValueError& e) {
      std::string what = e.what();
      EXPECT_NE(what.find(std::string("\"") + bad + "\""), std::string::npos) << what;
      EXPECT_NE(what.find("D-HH:MM:SS"), std::string::npos) << what;
      EXPECT_NE(what.find("Nm"), std::string::npos) << what;
    }
  }
}

// "99:99:99" used to become 4-04:40:39; out-of-range fields are typos and are refused.
TEST(TimeLimitTest, OutOfRangeFieldsAreRefused) {
  struct Case {
    const char* limit;
    const char* why;
  };
  for (const Case& c :
       {Case{"99:99:99", "minutes must be below 60"}, Case{"00:90:00", "minutes must be below 60"},
        Case{"00:00:60", "seconds must be below 60"}, Case{"12:75", "minutes must be below 60"},
        Case{"1-24:00:00", "hours must be below 24"}, Case{"366d", "365 days"},
        Case{"999999999w", "365 days"}, Case{"8761:00:00", "365 days"}}) {
    try {
      normalize_time_limit(c.limit);
      ADD_FAILURE() << "accepted \"" << c.limit << "\"";
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(c.why), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(normalize_time_limit("365d"), "365-00:00:00");
  EXPECT_EQ(normalize_time_limit("1-23:59:59"), "1-23:59:59");
}

}  // namespace
}  // namespace bp
