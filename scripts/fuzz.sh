#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang-14 (ASan + UBSan) into build-fuzz/ and runs
# them on their seed corpora (fuzz/corpus/<target>/).
#   scripts/fuzz.sh                  every target, 10 s each
#   scripts/fuzz.sh TARGET [SECONDS] one target (name as in fuzz/, e.g. fuzz_node_list)
#   scripts/fuzz.sh all SECONDS      every target, SECONDS each
#   scripts/fuzz.sh --build-only     only configure build-fuzz (scripts/test.sh then builds and
#                                    runs the unit tests there under the same sanitizers)
# Exits non-zero on the first finding (crash, sanitizer report, leak, timeout, out of memory);
# libFuzzer leaves the input as build-fuzz/crash-* (or timeout-*, oom-*). Prints the executions
# of each run ("stat::number_of_executed_units").
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
seconds=${2:-10}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
CXX=${FUZZ_CXX:-clang++-14}
command -v "$CXX" >/dev/null || { echo "fuzz.sh: $CXX not found (scripts/setup-deps.sh installs clang-14)" >&2; exit 2; }

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# -DNDEBUG as in the shipped build: toml++'s internal debug assertions fire on some invalid input
# (`[[+`) that the release parser reports as a clean error; the fuzzers test what ships.
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_CXX_COMPILER="$CXX" -DBP_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
    "${launcher[@]}" >/dev/null
fi
[[ "$target" == --build-only ]] && exit 0
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target fuzz_targets

if [[ "$target" == all ]]; then
  targets=()
  for f in fuzz/*.cc; do targets+=("$(basename "$f" .cc)"); done
else
  targets=("$target")
fi

for t in "${targets[@]}"; do
  [[ -x "$BUILD_DIR/$t" ]] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
  seeds=$PWD/fuzz/corpus/$t
  seed_dirs=()
  [[ -d "$seeds" ]] && seed_dirs=("$seeds")  # a new target may come without seeds
  work=$BUILD_DIR/corpus/$t   # new inputs go here, the committed seeds stay as they are
  mkdir -p "$work"
  echo "== $t: ${seconds}s"
  # Host lists are short; long ones only slow the search down (each may name 200000 nodes).
  max_len=65536
  [[ "$t" == fuzz_node_list ]] && max_len=512
  # -rss_limit_mb/-timeout: more than 1 GB (with ASan's quarantine kept small) or 5 s on one
  # input is a finding too.
  (cd "$BUILD_DIR" && ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=64 "./$t" \
    -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=5 -max_len="$max_len" \
    -print_final_stats=1 "corpus/$t" ${seed_dirs[@]+"${seed_dirs[@]}"} 2>"$t.log") || {
    tail -n 40 "$BUILD_DIR/$t.log" >&2
    echo "fuzz.sh: $t found a problem (input saved under $BUILD_DIR/)" >&2
    exit 1
  }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$BUILD_DIR/$t.log" | sed "s/^/   /"
done
