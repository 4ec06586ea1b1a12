#include "util/error.h"

#include <gtest/gtest.h>

namespace bp {
namespace {

TEST(ConfigError, NamesFileLineKeyPathAndWhatWasExpected) {
  ConfigError e(SourceLoc{"conf/test/x.toml", 12}, "cmd_args.tp",
                "expected an integer or a list of integers, got string \"two\"");
  EXPECT_STREQ(e.what(),
               "conf/test/x.toml:12: cmd_args.tp: expected an integer or a list of integers, got "
               "string \"two\"");
  EXPECT_EQ(e.loc().str(), "conf/test/x.toml:12");
  EXPECT_EQ(e.key_path(), "cmd_args.tp");
  EXPECT_EQ(e.message(), "expected an integer or a list of integers, got string \"two\"");
}

TEST(ConfigError, LeavesOutAnUnknownLineAndAnEmptyKeyPath) {
  EXPECT_STREQ(ConfigError(SourceLoc{"conf/system.toml", 0}, "", "cannot open file").what(),
               "conf/system.toml: cannot open file");
  EXPECT_STREQ(ConfigError(SourceLoc{"a.toml", 3}, "", "bad").what(), "a.toml:3: bad");
}

TEST(Error, EveryKindIsCaughtAsError) {
  auto kind_of = [](auto thrower) -> std::string {
    try {
      thrower();
    } catch (const ConfigError&) {
      return "config";
    } catch (const FileError&) {
      return "file";
    } catch (const ValueError&) {
      return "value";
    } catch (const Error& e) {
      return std::string("error: ") + e.what();
    }
    return "none";
  };
  EXPECT_EQ(kind_of([] { throw ConfigError(SourceLoc{"f", 1}, "k", "m"); }), "config");
  EXPECT_EQ(kind_of([] { throw FileError("x: No such file or directory"); }), "file");
  EXPECT_EQ(kind_of([] { throw ValueError("unbalanced '['"); }), "value");
  EXPECT_EQ(kind_of([] { throw Error("results store r.db: locked"); }),
            "error: results store r.db: locked");
  // All of them are the one base, so the CLI's single catch prints each message as is.
  try {
    throw ValueError("node list 'a[': unbalanced '['");
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "node list 'a[': unbalanced '['");
  }
}

}  // namespace
}  // namespace bp
