#include "cli/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "util/log.h"

namespace bp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RunRecord record(int step, bool passed, double step_time) {
  RunRecord r;
  r.case_id = "sweep";
  r.step = step;
  r.passed = passed;
  r.workload = "MegatronBridge";
  r.state = passed ? "COMPLETED" : "FAILED";
  if (passed) {
    r.metrics["step-time"] = step_time;
    r.reward = -step_time;  // the best run has the highest reward
  }
  return r;
}

std::string read_all(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

TEST(Progress, CountsEtaAndBestSoFar) {
  std::FILE* out = std::tmpfile();
  ProgressDisplay p(ProgressDisplay::Mode::kQuiet, 10, 4, out);
  auto t0 = ProgressDisplay::Clock::now();
  for (int s = 1; s <= 4; ++s) p.submitted("sweep/0/" + std::to_string(s));
  p.running("sweep/0/1");
  p.running("sweep/0/2");
  EXPECT_THAT(p.status_text(t0),
              HasSubstr("done 0/10 | running 2 | queued 8 | pruned 4 | failed 0"));
  EXPECT_THAT(p.status_text(t0), Not(HasSubstr("ETA")));
  p.finished(record(1, true, 2.5));
  p.finished(record(2, false, 0));
  std::string s = p.status_text(t0 + std::chrono::seconds(60));
  EXPECT_THAT(s, HasSubstr("done 2/10 | running 0 | queued 8 | pruned 4 | failed 1"));
  // 2 jobs in 60 s, 8 left: 4 minutes.
  EXPECT_THAT(s, HasSubstr("ETA 4:00"));
  EXPECT_THAT(s, HasSubstr("best sweep/0/1 step time (s) 2.5"));
  p.finished(record(3, true, 1.5));
  EXPECT_THAT(p.status_text(t0), HasSubstr("best sweep/0/3 step time (s) 1.5"));
  EXPECT_EQ(read_all(out), "");  // quiet
  std::fclose(out);
}

TEST(Progress, PlainLinesPerFinishedJobWithoutEscapes) {
  std::FILE* out = std::tmpfile();
  {
    ProgressDisplay p(ProgressDisplay::Mode::kLines, 2, 0, out);
    p.submitted("sweep/0/1");
    p.tick();
    p.finished(record(1, true, 1));
  }
  std::string text = read_all(out);
  EXPECT_THAT(text, HasSubstr("progress: done 1/2 | running 0 | queued 1"));
  EXPECT_THAT(text, Not(HasSubstr("\033")));
  std::fclose(out);
}

TEST(Progress, LiveLineRewritesInPlaceAndMakesRoomForLogLines) {
  std::FILE* out = std::tmpfile();
  {
    ProgressDisplay p(ProgressDisplay::Mode::kLive, 3, 1, out);
    p.submitted("sweep/0/1");
    log::error("a log line");  // clears the line before, redraws after
    p.finished(record(1, true, 1));
    p.close();
    p.submitted("sweep/0/2");  // closed: draws nothing more
  }
  std::string text = read_all(out);
  EXPECT_THAT(text, HasSubstr("\r\033[Kdone 0/3 | running 0 | queued 3"));
  EXPECT_THAT(text, HasSubstr("\r\033[Kdone 1/3"));
  EXPECT_THAT(text, Not(HasSubstr("\n")));  // never a new line of its own
  EXPECT_TRUE(text.ends_with("\r\033[K"));  // close() leaves a clean line
  std::fclose(out);
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(59.6), "1:00");
  EXPECT_EQ(format_duration(3725), "1:02:05");
  EXPECT_EQ(format_duration(-3), "0:00");
}

}  // namespace
}  // namespace bp
