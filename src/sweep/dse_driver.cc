#include "sweep/dse_driver.h"

#include "sweep/constraints.h"
#include "sweep/param_space.h"

namespace bp {

bool is_sweep(const TestRun& run) { return ParamSpace::of(run).is_sweep(); }

int run_sweep(const TestRun& run, const System& system, PointRunner& runner) {
  (void)system;
  ParamSpace space = ParamSpace::of(run);
  CompiledConstraints cc = compile_case_constraints(run, space);
  std::vector<uint32_t> idx;
  for (uint64_t p = 1; p <= space.size(); ++p) {
    space.decode(p, idx);
    if (cc.check(idx)) continue;
    while (runner.in_flight() >= runner.max_in_flight()) runner.wait_any();
    runner.start(static_cast<int>(p), apply_indices(run, space, idx));
  }
  while (runner.in_flight() > 0) runner.wait_any();
  return 0;
}

}  // namespace bp
