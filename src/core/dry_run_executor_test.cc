#include "core/dry_run_executor.h"

#include <gtest/gtest.h>

namespace bp {
namespace {

TEST(DryRunExecutor, TakesEveryJobAndSubmitsNone) {
  DryRunExecutor ex;
  JobRequest req;
  req.name = "case_0";
  req.run_dir = "/tmp/r/case/0";
  req.spec.command = "sbatch --wrap true";
  Job a = ex.submit(req);
  Job b = ex.submit(req);
  EXPECT_NE(a.handle, b.handle);
  for (Job* j : {&a, &b}) {
    EXPECT_EQ(j->state, JobState::kNotSubmitted);
    EXPECT_TRUE(is_terminal(j->state));  // nothing to wait for
    EXPECT_TRUE(j->id.empty());          // no scheduler id: nothing was submitted
    EXPECT_TRUE(all_attempts(*j).empty());
    EXPECT_EQ(j->run_dir, req.run_dir);
  }
  EXPECT_EQ(to_string(a.state), "DRY-RUN");
  std::vector<Job*> jobs = {&a};
  ex.poll(jobs);
  ex.cancel(a);
  EXPECT_EQ(a.state, JobState::kNotSubmitted);
  ASSERT_EQ(ex.requests().size(), 2u);
  EXPECT_EQ(ex.requests()[0].name, "case_0");
}

}  // namespace
}  // namespace bp
