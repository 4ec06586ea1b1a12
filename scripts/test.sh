#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: a short smoke run of every fuzz target,
# the unit and CLI tests under ASan+UBSan, then the whole suite (unit, end-to-end, real Slurm)
# in the normal build. The Slurm tests start and stop their own local cluster. The normal
# build's ctest runs last, so its summary is the closing line.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh

# A short smoke run of every libFuzzer target (a few seconds each; scripts/fuzz.sh for long
# runs). Needs clang-14, which scripts/setup-deps.sh installs.
if [[ "${BENCHPILOT_SKIP_FUZZ:-0}" != 1 ]]; then
  ./scripts/fuzz.sh all "${FUZZ_SMOKE_SECONDS:-3}"
fi

# The unit tests and the end-to-end tests that need no cluster (bad-input corpus, hostile
# scripts, golden commands, CLI, report pages) again under AddressSanitizer +
# UndefinedBehaviorSanitizer, in build-asan. Tests that need the local Slurm cluster are left
# out there: they drive real slurmctld/slurmd for minutes and would double the CI time, while the
# code they cover runs in the unit and CLI tests.
if [[ "${BENCHPILOT_SKIP_SANITIZERS:-0}" != 1 ]]; then
  # -O0 with line tables only: the quickest build that still gives symbolized reports.
  BUILD_DIR=build-asan BUILD_TYPE=Debug \
    EXTRA_CMAKE_ARGS="-DBP_SANITIZE=ON -DCMAKE_CXX_FLAGS_DEBUG=-g1" ./scripts/build.sh
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j "${JOBS:-2}" -LE slurm -E SlurmIntegration "$@")
fi

./scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "${JOBS:-2}" "$@")
