#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit and integration).
# The integration tests start and stop their own local Slurm cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
./scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "${JOBS:-2}" "$@"
