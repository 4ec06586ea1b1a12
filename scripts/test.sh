#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: a short smoke run of every fuzz target and
# the unit and CLI tests under ASan+UBSan (both from one clang build), then the whole suite (unit,
# end-to-end, real Slurm) in the normal build. The Slurm tests start and stop their own local
# cluster. The normal build's ctest runs last, so its summary is the closing line.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh

# One clang-14 build (build-fuzz: ASan + UBSan + libFuzzer coverage, -O1) serves two stages, so
# CI compiles the project twice (this and the normal build), not three times:
# 1. a short smoke run of every libFuzzer target (a few seconds each; scripts/fuzz.sh for long
#    runs);
# 2. the unit tests and the end-to-end tests that need no cluster (bad-input corpus, hostile
#    scripts, golden commands, CLI, report pages) under the sanitizers. Tests that need the local
#    Slurm cluster are left out there: they drive real slurmctld/slurmd for minutes and would
#    double the CI time, while the code they cover runs in the unit and CLI tests.
FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
if [[ "${BENCHPILOT_SKIP_FUZZ:-0}" != 1 ]]; then
  FUZZ_BUILD_DIR=$FUZZ_BUILD_DIR ./scripts/fuzz.sh all "${FUZZ_SMOKE_SECONDS:-3}"
fi
if [[ "${BENCHPILOT_SKIP_SANITIZERS:-0}" != 1 ]]; then
  FUZZ_BUILD_DIR=$FUZZ_BUILD_DIR ./scripts/fuzz.sh --build-only
  cmake --build "$FUZZ_BUILD_DIR" -j "${JOBS:-$(nproc)}"
  (cd "$FUZZ_BUILD_DIR" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j "${JOBS:-2}" -LE slurm -E SlurmIntegration "$@")
fi

./scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "${JOBS:-2}" "$@")
