#!/usr/bin/env bash
# smoke_test.sh -- start a throw-away local Slurm cluster, run real jobs, stop it.
#
# usage: smoke_test.sh [--accounting] [--cgroup] [--side-by-side] [--nodes N] [--port-base P] [--keep]
#
#   --accounting   also start slurmdbd + MariaDB and check sacct
#   --cgroup       start with cgroup enforcement and check a real OUT_OF_MEMORY
#   --side-by-side start a second cluster beside the first (own ports and node
#                  names), check that the first one's node names are refused to a
#                  third, and that stopping the first leaves the second's job running
#   --nodes N      emulated nodes (default 2)
#   --port-base P  first TCP port (default: the first free one of 6817, 6917, ...)
#   --keep         leave the cluster directory in place (the daemons are stopped anyway)
#
# Must run as root. Prints one line per check and ends with "N passed, N failed";
# the exit status is 0 only if every check passed. Takes about 10-20 s.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
START_OPTS=()
NODES=2
PORT_BASE=""
KEEP=0
ACCOUNTING=0
CGROUP=0
SIDE=0
while [ $# -gt 0 ]; do
  case $1 in
    --accounting) ACCOUNTING=1; START_OPTS+=(--accounting); shift ;;
    --cgroup) CGROUP=1; START_OPTS+=(--cgroup); shift ;;
    --side-by-side) SIDE=1; shift ;;
    --nodes) NODES=$2; shift 2 ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) awk '/^# shellcheck/ { next } NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "smoke_test: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS  $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL  $*"; }
expect() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit $?
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports_free() {
  local p
  for p in "$1" $(($1 + 1)) $(($1 + 2)) $(seq $(($1 + 11)) $(($1 + 10 + NODES))); do port_free "$p" || return 1; done
}
if [ -z "$PORT_BASE" ]; then
  for cand in $(seq 6817 100 8817); do
    if ports_free "$cand"; then PORT_BASE=$cand; break; fi
  done
  [ -n "$PORT_BASE" ] || { fail "no free port base found"; finish; }
fi

DIR=$(mktemp -d /tmp/bpsmoke.XXXXXX)
# Node names of this cluster only (see start.sh --node-prefix): s<pid>n1, s<pid>n2, ...
PREFIX="s$$n"
echo "# cluster dir $DIR, port base $PORT_BASE, nodes ${PREFIX}1..$PREFIX$NODES ${START_OPTS[*]:-}"
cleanup_done=0
stop_cluster() {
  [ $cleanup_done = 1 ] && return
  cleanup_done=1
  if [ $KEEP = 1 ]; then bash "$HERE/stop.sh" "$DIR" >/dev/null; else bash "$HERE/stop.sh" "$DIR" --purge >/dev/null; fi
}
trap stop_cluster EXIT

# side_by_side: start cluster 2 (ports PORT_BASE+50.., nodes t<pid>n*) with a long job
# (JB) on it; a third cluster asking for cluster 1's node names is refused.
DIR2=""
JB=""
side_by_side() {
  local base2=$((PORT_BASE + 50)) out opts=()
  [ $CGROUP = 1 ] && opts=(--cgroup)
  DIR2=$(mktemp -d /tmp/bpsmoke2.XXXXXX)
  if ! bash "$HERE/start.sh" "$DIR2" --nodes 1 --node-prefix "t$$n" --cpus 4 --gpus 0 \
      --port-base "$base2" "${opts[@]}" >"$DIR2.start.log" 2>&1; then
    fail "second cluster failed to start:"; sed 's/^/    /' "$DIR2.start.log"; return
  fi
  pass "a second cluster starts beside the first"
  JB=$(SLURM_CONF=$DIR2/etc/slurm.conf sbatch --parsable -o /dev/null --wrap 'sleep 120')
  for _ in $(seq 1 100); do
    [ "$(SLURM_CONF=$DIR2/etc/slurm.conf squeue -h -j "$JB" -o %T)" = RUNNING ] && break; sleep 0.1
  done
  local dir3
  dir3=$(mktemp -d /tmp/bpsmoke3.XXXXXX)
  out=$(bash "$HERE/start.sh" "$dir3" --nodes 1 --node-prefix "$PREFIX" --gpus 0 \
          --port-base $((PORT_BASE + 80)) 2>&1)
  expect "a third cluster with the first one's node names is refused" \
    grep -q "node name ${PREFIX}1 is in use by the running cluster of $DIR/etc/slurm.conf" <<<"$out"
  bash "$HERE/stop.sh" "$dir3" --purge >/dev/null
  rm -f "$DIR2.start.log"
}
trap 'stop_cluster; [ -n "$DIR2" ] && bash "$HERE/stop.sh" "$DIR2" --purge >/dev/null' EXIT

t0=$(date +%s%3N)
if bash "$HERE/start.sh" "$DIR" --nodes "$NODES" --node-prefix "$PREFIX" --cpus 16 --gpus 8 --port-base "$PORT_BASE" "${START_OPTS[@]}" >"$DIR.start.log" 2>&1; then
  pass "start.sh ($(( $(date +%s%3N) - t0 )) ms)"
else
  fail "start.sh failed:"; sed 's/^/    /' "$DIR.start.log"; rm -f "$DIR.start.log"; finish
fi
rm -f "$DIR.start.log"
expect "env.sh exports SLURM_CONF" grep -q "^export SLURM_CONF=$DIR/etc/slurm.conf$" "$DIR/env.sh"
# shellcheck disable=SC1091
source "$DIR/env.sh"

idle=$(sinfo -h -N -t idle -o '%N' | sort -u | tr '\n' ' ')
expected=$(for i in $(seq 1 "$NODES"); do printf '%s%d ' "$PREFIX" "$i"; done)
expect "sinfo: nodes ${PREFIX}1..$PREFIX$NODES idle" [ "$idle" = "$expected" ]
expect "env.sh exports the node names" grep -q "^export LOCAL_SLURM_NODE_NAMES=$PREFIX" "$DIR/env.sh"

expect "sinfo: default partition is main" [ "$(sinfo -h -o %P | sort -u)" = "main*" ]
expect "sinfo: 8 GPUs per node" [ "$(sinfo -h -N -o '%G' | sort -u)" = "gpu:8" ]

# ---- a job that completes, with GPUs
J=$(sbatch --parsable --wait -p main -N 1 --gpus-per-node=2 -o "$DIR/job1.out" \
      --wrap 'echo "node=$SLURMD_NODENAME gpus=$CUDA_VISIBLE_DEVICES"; sleep 1')
rc=$?
expect "sbatch --wait returns 0 and a job id ($J)" [ $rc = 0 ] && [[ $J =~ ^[0-9]+$ ]]
expect "job output has 2 fake GPUs" grep -q "gpus=0,1" "$DIR/job1.out"
expect "squeue -t all reports COMPLETED" [ "$(squeue -h -t all -j "$J" -o %T)" = COMPLETED ]
expect "scontrol reports JobState=COMPLETED ExitCode=0:0" \
  bash -c "scontrol -o show job $J | grep -q 'JobState=COMPLETED .*ExitCode=0:0'"
expect "jobcomp log has the job as COMPLETED" \
  bash -c "grep -q 'JobId=$J .*JobState=COMPLETED' '$LOCAL_SLURM_JOBCOMP'"
if [ $ACCOUNTING = 1 ]; then
  st=""
  for _ in $(seq 1 50); do
    st=$(sacct -n -X -P -j "$J" -o State 2>/dev/null | head -1)
    [ "$st" = COMPLETED ] && break
    sleep 0.2
  done
  expect "sacct reports COMPLETED" [ "$st" = COMPLETED ]
fi

# ---- a failing job and a cancelled one
J2=$(sbatch --parsable --wait -o /dev/null --wrap 'exit 3')
expect "failing job ends FAILED with ExitCode=3:0" \
  bash -c "scontrol -o show job $J2 | grep -q 'JobState=FAILED .*ExitCode=3:0'"
J3=$(sbatch --parsable -o /dev/null --wrap 'sleep 300')
for _ in $(seq 1 50); do [ "$(squeue -h -j "$J3" -o %T)" = RUNNING ] && break; sleep 0.1; done
scancel "$J3"
for _ in $(seq 1 100); do
  s=$(squeue -h -t all -j "$J3" -o %T); [ "$s" = CANCELLED ] && break; sleep 0.1
done
expect "scancel'ed job ends CANCELLED" [ "$(squeue -h -t all -j "$J3" -o %T)" = CANCELLED ]

# ---- several small jobs at once
ids=()
for _ in $(seq 1 8); do ids+=("$(sbatch --parsable -o /dev/null --wrap 'sleep 2')"); done
sleep 1.5
running=$(squeue -h -t R -o %A | wc -l)
expect "8 one-CPU jobs run concurrently (running: $running)" [ "$running" -ge 8 ]
scancel "${ids[@]}" 2>/dev/null

if [ $CGROUP = 1 ]; then
  J4=$(sbatch --parsable --wait --mem=64M -o /dev/null \
         --wrap "python3 -c 'b = bytearray(400 * 2**20); b[::4096] = b\"x\" * (len(b) // 4096)'")
  expect "job above its --mem ends OUT_OF_MEMORY" \
    bash -c "scontrol -o show job $J4 | grep -q 'JobState=OUT_OF_MEMORY'"
fi

# ---- a second cluster beside this one
if [ $SIDE = 1 ]; then side_by_side; fi

# ---- stop and check that nothing is left
pids=$(awk '{print $2}' "$DIR/run/daemons" | tr '\n' ' ')
stop_cluster
if [ $SIDE = 1 ]; then
  expect "the second cluster's job still runs after the first cluster stopped" \
    bash -c "[ \"\$(SLURM_CONF=$DIR2/etc/slurm.conf squeue -h -j $JB -o %T)\" = RUNNING ]"
  JB2=$(SLURM_CONF=$DIR2/etc/slurm.conf sbatch --parsable --wait -o /dev/null --wrap 'true')
  expect "the second cluster still runs new jobs" \
    bash -c "SLURM_CONF=$DIR2/etc/slurm.conf scontrol -o show job $JB2 | grep -q JobState=COMPLETED"
  bash "$HERE/stop.sh" "$DIR2" --purge >/dev/null
fi
left=""
for p in $pids; do
  st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
  [ -n "$st" ] && [ "$st" != Z ] && left+="$p "
done
expect "stop.sh leaves no daemon running" [ -z "$left" ]
expect "ports released" ports_free "$PORT_BASE"
finish
