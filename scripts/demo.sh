#!/usr/bin/env bash
# benchpilot demo: installs dependencies, builds, starts a real local Slurm cluster (fake GPUs),
# installs the Megatron-Bridge launcher EMULATOR as the Megatron-Bridge repository, runs the
# example sweep scenario end to end, prints the results, and stops the cluster.
#
#   ./scripts/demo.sh            the real thing (needs root for the local cluster)
#   ./scripts/demo.sh --dry-run  only generate everything for the sweep and print the plan
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
mode=run
[[ "${1:-}" == "--dry-run" ]] && mode=dry-run

./scripts/setup-deps.sh
./scripts/build.sh >/dev/null
BP="$ROOT/build/benchpilot"

WORK=${BENCHPILOT_DEMO_DIR:-/tmp/bp-demo}
mkdir -p "$WORK"
# The emulated launcher downloads nothing; a real run needs your Hugging Face token here.
export HF_TOKEN=${HF_TOKEN:-demo-token-not-a-secret}

if [[ $mode == dry-run ]]; then
  "$BP" --log-file "$WORK/debug.log" dry-run \
    --system-config conf/system/example_slurm_cluster.toml --tests-dir conf/test/h100 \
    --test-scenario conf/test_scenario/megatron_bridge_llama3_8b_sweep.toml \
    --output-dir "$WORK/results"
  exit 0
fi

cat <<'BANNER'
================================================================================
  benchpilot demo on a real local Slurm cluster
  NOTE: Megatron-Bridge's launcher is EMULATED (tools/mbridge-emulator): the jobs
  are real Slurm jobs, but they print synthetic training logs instead of training.
================================================================================
BANNER

SLURM_DIR=/tmp/bp-demo-slurm
cleanup() { bash scripts/local-slurm/stop.sh "$SLURM_DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT
# 4 nodes with 32 fake GPUs each, so several 3-node (24-GPU) sweep points run at once.
bash scripts/local-slurm/start.sh "$SLURM_DIR" --nodes 4 --gpus 32 --accounting
# shellcheck disable=SC1091
source "$SLURM_DIR/env.sh"

# The emulator becomes "the Megatron-Bridge repository": a git repo benchpilot clones as usual.
REPO="$WORK/Megatron-Bridge"
rm -rf "$REPO"
cp -r tools/mbridge-emulator "$REPO"
git -C "$REPO" init -q
git -C "$REPO" add -A
git -C "$REPO" -c user.email=demo@benchpilot -c user.name=demo commit -qm "emulated Megatron-Bridge"
git -C "$REPO" tag -f v0.3.0-emulated >/dev/null

cat >"$WORK/system.toml" <<TOML
name = "local-slurm"
scheduler = "slurm"
install_path = "$WORK/install"
output_path = "$WORK/results"
default_partition = "main"
mpi = "none"
gpus_per_node = 8
monitor_interval = 2
launcher_python = "$(command -v python3)"

[[partitions]]
name = "main"
  [[partitions.groups]]
  name = "all"
  nodes = ["node[1-4]"]
TOML

cat >"$WORK/scenario.toml" <<TOML
# The example sweep (conf/test_scenario/megatron_bridge_llama3_8b_sweep.toml) pointed at
# the emulated repository.
name = "llama3_8b_sweep_demo"

[[Tests]]
id = "llama3_8b_sweep"
test_name = "megatron_bridge_llama3_8b_h100"
num_nodes = 3
time_limit = "00:05:00"
agent = "grid_search"
agent_metrics = ["step-time"]
  [Tests.agent_config]
  max_in_flight = 8
  [Tests.cmd_args]
  container_image = "$WORK/nemo.sqsh"
  num_gpus = 24
  tp = [1, 2, 4]
  pp = [1, 2, 3]
  cp = [1, 2]
  mb = [1, 2]
  gb = 192
  max_steps = 10
  [[Tests.git_repos]]
  url = "file://$REPO"
  commit = "v0.3.0-emulated"
  mount_as = "/opt/Megatron-Bridge"
TOML
touch "$WORK/nemo.sqsh"  # a stand-in container image file

"$BP" --log-file "$WORK/debug.log" run --system-config "$WORK/system.toml" \
  --tests-dir conf/test/h100 --test-scenario "$WORK/scenario.toml"

latest=$(ls -td "$WORK"/results/llama3_8b_sweep_demo_* | head -n1)
echo
echo "Reports:"
echo "  report       $latest/report.html  (open in a browser; self-contained)"
echo "  summary      $latest/summary.txt  (machine-readable: summary.json)"
echo "  junit        $latest/results.xml"
echo "  trajectory   $latest/llama3_8b_sweep/0/trajectory.csv"
echo "  pruned       $latest/llama3_8b_sweep/0/pruned.csv"
echo "  best config  $latest/llama3_8b_sweep/0/llama3_8b_sweep.toml"
echo "  per run      $latest/llama3_8b_sweep/0/<step>/report.txt, training_report.json"
