#!/usr/bin/env bash
# Configures and builds benchpilot into ./build (or $BUILD_DIR). Uses ccache when present.
# BUILD_TYPE (RelWithDebInfo) and EXTRA_CMAKE_ARGS apply when the build dir is first configured.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  # shellcheck disable=SC2086  # EXTRA_CMAKE_ARGS holds several words (e.g. -DBP_SANITIZE=ON)
  cmake -S . -B "$BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "${launcher[@]}" \
    ${EXTRA_CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" "$@"
