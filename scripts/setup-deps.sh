#!/usr/bin/env bash
# Installs everything benchpilot needs to build and test, from Debian packages only.
# Idempotent: packages already present are not reinstalled, and apt-get update runs only when
# something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache git python3 pkg-config
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev libyaml-cpp-dev
  clang-14 libfuzzer-14-dev  # scripts/fuzz.sh (libFuzzer targets, run briefly by test.sh)
  shellcheck                 # ctest check_scripts: the shipped and generated scripts
)
# Headless Chromium: the report tests open report.html in a real browser.
packages+=(chromium)
# Extra packages for the integration tests and the demo (a real local Slurm cluster).
if [[ "${BENCHPILOT_WITH_SLURM:-1}" == 1 ]]; then
  packages+=(slurmctld slurmd slurm-client munge slurmdbd mariadb-server)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "setup-deps: installing ${missing[*]}"
# Keep package post-install scripts from starting system daemons (munge, slurmd, mariadb):
# the project starts its own under a private directory.
created_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
trap '[[ $created_policy == 1 ]] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-deps: done"
