// Scripts kept as real files beside this header (so CI runs bash -n and shellcheck on them) and
// compiled in by plugin.cmake.
#pragma once

namespace bp::mbridge {

// gate_wrapper.sh: the wrapper's part of the pre-test gate (nccl_gate.cc).
extern const char kGateWrapperPart[];
// launcher_wrapper.sh: mbridge-launcher.sh, with lines "#@NAME@" and words @NAME@ for
// wrapper.cc to fill in (wrapper_script()).
extern const char kLauncherWrapper[];
// launcher_helper.py: the Python half of mbridge-launcher.sh, with @NAMES@ for wrapper.cc to
// fill in (wrapper.h helper_script()).
extern const char kLauncherHelper[];

}  // namespace bp::mbridge
