#!/usr/bin/env bash
# shellcheck disable=SC2034  # variables named only in the etc/*.in templates: render reads them by name
# start.sh -- bring up a disposable, real Slurm cluster on this single machine.
#
# Intended for tests and CI of benchpilot. Must be run as root. Needs the Debian
# packages munge, slurmctld, slurmd, slurm-client (slurmdbd + mariadb-server for
# --accounting): scripts/setup-deps.sh installs them; this script installs nothing.
# All daemons run as plain background processes (no systemd); every file they use
# (configs, keys, sockets, state, spool, logs, database) lives below DIR; the config
# files are rendered from the templates in etc/ beside this script. Several compute
# nodes are emulated by running one slurmd per node (PREFIX1..PREFIXN), each with
# fake GPUs exposed through GRES. Only 127.0.0.1 is used for traffic.
#
# Two clusters on one machine need their own ports and their own node names: Slurm
# keys a job's cgroups by node name and job id, so two clusters that both have a
# node1 kill each other's jobs. start.sh refuses a node prefix that a running
# slurmd of another cluster already uses.
#
# usage: start.sh DIR [options]
#
#   DIR                 cluster directory; keep it short (<= 64 chars) because unix
#                       socket paths below it must stay under 108 bytes
#   --nodes N           emulated compute nodes PREFIX1..PREFIXN      (default 4)
#   --node-prefix P     node names are P1..PN (letters, digits, '-'; ends in a
#                       letter)                                      (default node)
#   --cpus N            CPUs declared per node, may exceed the host  (default 16)
#   --gpus N            fake GPUs (gres/gpu) per node, 0 = none      (default 8)
#   --mem MB            RealMemory per node    (default 90% of host memory / nodes)
#   --partition NAME    name of the default partition                (default main)
#   --port-base P       TCP ports: slurmctld P, slurmdbd P+1, MariaDB P+2,
#                       slurmd of node i P+10+i                      (default 6817)
#   --accounting        run MariaDB + slurmdbd so that sacct/sacctmgr work
#   --cgroup            contain jobs in cgroup v1 and enforce memory (--mem and
#                       the per-CPU default), giving real OUT_OF_MEMORY job states
#   --min-job-age S     seconds finished jobs stay visible in squeue/scontrol
#                       (default 3600)
#   --keep-state        keep job ids, state and accounting DB of a previous run
#   --no-install        accepted for compatibility; nothing is ever installed
#   --timeout S         per-step readiness timeout in seconds        (default 60)
#   -h, --help          show this text
#
# On success DIR/env.sh exists; `source DIR/env.sh` exports SLURM_CONF and a few
# LOCAL_SLURM_* variables describing the cluster. Finished jobs are appended to
# DIR/log/jobcomp.log (JobCompType=jobcomp/filetxt), one line per job, so final
# states can be found even without accounting. Stop with: stop.sh DIR [--purge]
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=local-slurm/start
# shellcheck source=lib.sh
source "$HERE/lib.sh"

DIR=""
NODES=4
NODE_PREFIX=node
CPUS=16
GPUS=8
MEM=""
PARTITION=main
PORT_BASE=6817
ACCOUNTING=0
CGROUP=0
MIN_JOB_AGE=3600
KEEP_STATE=0
TIMEOUT=60
CLUSTER_NAME=bpcluster

ms_now() { date +%s%3N; }
secs_since() { local d=$(( $(ms_now) - $1 )); printf '%d.%02ds' $((d / 1000)) $(((d % 1000) / 10)); }

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || fatal "option $1 needs a value"; }
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) need_value "$@"; NODES=$2; shift 2 ;;
    --node-prefix) need_value "$@"; NODE_PREFIX=$2; shift 2 ;;
    --cpus) need_value "$@"; CPUS=$2; shift 2 ;;
    --gpus) need_value "$@"; GPUS=$2; shift 2 ;;
    --mem) need_value "$@"; MEM=$2; shift 2 ;;
    --partition) need_value "$@"; PARTITION=$2; shift 2 ;;
    --port-base) need_value "$@"; PORT_BASE=$2; shift 2 ;;
    --accounting) ACCOUNTING=1; shift ;;
    --cgroup) CGROUP=1; shift ;;
    --min-job-age) need_value "$@"; MIN_JOB_AGE=$2; shift 2 ;;
    --keep-state) KEEP_STATE=1; shift ;;
    --no-install) shift ;;
    --timeout) need_value "$@"; TIMEOUT=$2; shift 2 ;;
    -h|--help) show_help "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) fatal "unknown option '$1' (try --help)" ;;
    *) [ -z "$DIR" ] || fatal "only one DIR may be given (got '$DIR' and '$1')"; DIR=$1; shift ;;
  esac
done

[ -n "$DIR" ] || { show_help "${BASH_SOURCE[0]}" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || fatal "must be run as root (slurmd needs root)"
for opt in NODES CPUS GPUS PORT_BASE MIN_JOB_AGE TIMEOUT; do
  [[ ${!opt} =~ ^[0-9]+$ ]] || fatal "--$(tr 'A-Z_' 'a-z-' <<<"$opt") expects a non-negative integer, got '${!opt}'"
done
[ -z "$MEM" ] || [[ $MEM =~ ^[0-9]+$ ]] || fatal "--mem expects megabytes, got '$MEM'"
[ "$NODES" -ge 1 ] && [ "$NODES" -le 64 ] || fatal "--nodes must be within 1..64"
[ "$CPUS" -ge 1 ] || fatal "--cpus must be >= 1"
[ "$GPUS" -le 64 ] || fatal "--gpus must be <= 64"
[ "$PORT_BASE" -ge 1024 ] && [ $((PORT_BASE + 10 + NODES)) -le 65535 ] || fatal "--port-base out of range"
[[ $PARTITION =~ ^[A-Za-z0-9_-]+$ ]] || fatal "bad partition name '$PARTITION'"
[[ $NODE_PREFIX =~ ^[A-Za-z]([A-Za-z0-9-]*[A-Za-z])?$ ]] && [ ${#NODE_PREFIX} -le 32 ] ||
  fatal "--node-prefix expects letters, digits and '-', starting and ending with a letter (at most 32), got '$NODE_PREFIX'"

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
[ ${#DIR} -le 64 ] || fatal "DIR '$DIR' is ${#DIR} characters long; use at most 64 (unix socket path limit)"

ETC=$DIR/etc
RUN=$DIR/run
LOG=$DIR/log
DAEMONS=$RUN/daemons            # one line per started daemon: NAME PID COMM STARTTIME
MUNGE_SOCKET=$RUN/munge.socket
DB_SOCKET=$RUN/mariadb.sock
CTLD_PORT=$PORT_BASE
DBD_PORT=$((PORT_BASE + 1))
DB_PORT=$((PORT_BASE + 2))
export SLURM_CONF=$ETC/slurm.conf
T_BEGIN=$(ms_now)

# ------------------------------------------------------------------ process helpers (and lib.sh)
tcp_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

STARTED=()   # "name pid comm" for daemons launched in this invocation
launch() {   # launch NAME COMM PIDFILE -- CMD...  (daemon in foreground mode, own session)
  local name=$1 comm=$2 pidfile=$3
  shift 4
  rm -f "$pidfile"
  setsid "$@" </dev/null >"$LOG/$name.stdout" 2>&1 &
  STARTED+=("$name $! $comm $pidfile")
}
# the pid of a launched daemon: its own pid file wins (it may re-exec), else the launch pid
daemon_pid() {
  local entry name pid comm pidfile
  for entry in "${STARTED[@]}"; do
    read -r name pid comm pidfile <<<"$entry"
    [ "$name" = "$1" ] || continue
    if [ -s "$pidfile" ] && is_running "$(cat "$pidfile")" "$comm"; then cat "$pidfile"; else echo "$pid"; fi
    return 0
  done
  return 1
}
daemon_comm() {
  local e n p c f
  for e in "${STARTED[@]}"; do
    read -r n p c f <<<"$e"
    if [ "$n" = "$1" ]; then echo "$c"; fi
  done
  return 0
}
record() {   # record NAME: add the running daemon to DIR/run/daemons
  local pid comm
  pid=$(daemon_pid "$1"); comm=$(daemon_comm "$1")
  is_running "$pid" "$comm" || abort_start "$1 is not running after start" "$1"
  echo "$1 $pid $comm $(stat_field "$pid" 20)" >>"$DAEMONS"
}
# await NAME WHAT CMD...: poll CMD until it succeeds; give up after TIMEOUT s or when NAME died
await() {
  local name=$1 what=$2 deadline pid comm
  shift 2
  deadline=$(( $(ms_now) + TIMEOUT * 1000 ))
  comm=$(daemon_comm "$name")
  while ! "$@" >/dev/null 2>&1; do
    if [ "$(ms_now)" -ge "$deadline" ]; then abort_start "$what: not ready after ${TIMEOUT}s" "$name"; fi
    pid=$(daemon_pid "$name")
    if [ -n "$comm" ] && ! is_running "$pid" "$comm"; then
      sleep 0.2
      "$@" >/dev/null 2>&1 && return 0
      pid=$(daemon_pid "$name")
      is_running "$pid" "$comm" || abort_start "$what: $name exited during start-up" "$name"
    fi
    sleep 0.05
  done
}
abort_start() {
  local f
  trap - ERR
  set +e
  printf '%s: error: %s\n' "$PROG" "$1" >&2
  for f in "$LOG/$2.stdout" "$LOG/$2.log"; do
    [ -s "$f" ] && { echo "---- last lines of $f" >&2; tail -n 15 "$f" >&2; }
  done
  # make sure the daemons launched so far get stopped by stop.sh as well
  local entry name pid comm pidfile
  for entry in "${STARTED[@]}"; do
    read -r name pid comm pidfile <<<"$entry"
    grep -q "^$name " "$DAEMONS" 2>/dev/null && continue
    pid=$(daemon_pid "$name")
    is_running "$pid" "$comm" && echo "$name $pid $comm $(stat_field "$pid" 20)" >>"$DAEMONS"
  done
  bash "$HERE/stop.sh" "$DIR" >&2 || true
  exit 1
}

# any unexpected failure from here on: report it and tear down what was started
trap 'abort_start "command failed at line $LINENO: $BASH_COMMAND" none' ERR

# ------------------------------------------------------------------ already up?
if [ -s "$DAEMONS" ]; then
  up=1; some=0
  while read -r name pid comm st; do
    if is_running "$pid" "$comm" "$st"; then some=1; else up=0; fi
  done <"$DAEMONS"
  if [ $up = 1 ] && scontrol ping >/dev/null 2>&1; then
    say "a cluster is already running in $DIR (new options ignored; stop it first to change them)"
    say "use: source $DIR/env.sh"
    exit 0
  fi
  [ $some = 1 ] && say "cluster in $DIR is only partly alive; stopping the rest before starting afresh"
  bash "$HERE/stop.sh" "$DIR"
fi

# ------------------------------------------------------------------ packages
want=(munge slurmctld slurmd slurm-client)
[ $ACCOUNTING = 1 ] && want+=(slurmdbd mariadb-server)
todo=()
for p in "${want[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || todo+=("$p")
done
[ ${#todo[@]} -eq 0 ] ||
  fatal "missing Debian packages: ${todo[*]} (install them with scripts/setup-deps.sh)"

# ------------------------------------------------------------------ node names
# The names of this cluster's nodes must not be those of another running cluster (see above).
node_name_in_use() {   # prints the SLURM_CONF of a running slurmd of another cluster named $1
  local pid conf
  for pid in $(pgrep -x slurmd); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qw -- "-N $1" || continue
    conf=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^SLURM_CONF=//p')
    [ "$conf" = "$SLURM_CONF" ] || { echo "${conf:-an unknown cluster}"; return 0; }
  done
  return 1
}
for i in $(seq 1 "$NODES"); do
  if other=$(node_name_in_use "$NODE_PREFIX$i"); then
    fatal "node name $NODE_PREFIX$i is in use by the running cluster of $other; choose another --node-prefix"
  fi
done

# ------------------------------------------------------------------ ports
busy=()
check_ports=("$CTLD_PORT")
for i in $(seq 1 "$NODES"); do check_ports+=($((PORT_BASE + 10 + i))); done
[ $ACCOUNTING = 1 ] && check_ports+=("$DBD_PORT" "$DB_PORT")
for p in "${check_ports[@]}"; do tcp_port_busy "$p" && busy+=("$p"); done
[ ${#busy[@]} -eq 0 ] || fatal "TCP port(s) ${busy[*]} on 127.0.0.1 already in use; is another cluster running? choose another --port-base"

# ------------------------------------------------------------------ directory tree
if [ $KEEP_STATE = 0 ]; then rm -rf "$DIR/state" "$DIR/spool" "$LOG" "$DIR/db" "$DIR/gpus"; fi
mkdir -p "$ETC" "$RUN" "$LOG" "$DIR/state" "$DIR/spool" "$DIR/munge"
touch "$DIR/.benchpilot-local-slurm"
chmod 0755 "$DIR" "$ETC" "$RUN" "$LOG"
chmod 0700 "$DIR/munge"
rm -f "$DAEMONS"
for i in $(seq 1 "$NODES"); do mkdir -p "$DIR/spool/$NODE_PREFIX$i"; done
if [ ! -s "$DIR/munge/munge.key" ]; then
  mungekey --create --keyfile="$DIR/munge/munge.key" >/dev/null 2>&1 ||
    head -c 1024 /dev/urandom >"$DIR/munge/munge.key"
fi
chmod 0600 "$DIR/munge/munge.key"

# ------------------------------------------------------------------ configuration
HOST=$(hostname -s 2>/dev/null || hostname)
HOST=${HOST%%.*}
HOST_MB=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)
[ -n "$MEM" ] || MEM=$(( HOST_MB * 9 / 10 / NODES ))
REAL_CPUS=$(nproc)
if [ "$NODES" -eq 1 ]; then NODE_NAMES=${NODE_PREFIX}1; NODE_PORTS=$((PORT_BASE + 11))
else NODE_NAMES="${NODE_PREFIX}[1-$NODES]"; NODE_PORTS="[$((PORT_BASE + 11))-$((PORT_BASE + 10 + NODES))]"; fi

GRES_ATTR=""
rm -f "$ETC/gres.conf"
if [ "$GPUS" -gt 0 ]; then
  GRES_ATTR=" Gres=gpu:$GPUS"
  # GRES needs File= entries that are character devices; /dev/null symlinks do.
  {
    echo "# written by local-slurm/start.sh: fake GPUs, one /dev/null link per device"
    echo "AutoDetect=off"
    for i in $(seq 1 "$NODES"); do
      mkdir -p "$DIR/gpus/$NODE_PREFIX$i"
      for g in $(seq 0 $((GPUS - 1))); do ln -sfn /dev/null "$DIR/gpus/$NODE_PREFIX$i/nvidia$g"; done
      echo "NodeName=$NODE_PREFIX$i Name=gpu File=$DIR/gpus/$NODE_PREFIX$i/nvidia[0-$((GPUS - 1))]"
    done
  } >"$ETC/gres.conf"
fi

TEMPLATES=$HERE/etc
# task/affinity cannot bind to CPUs that do not exist, so it is only added when the declared
# CPU count fits the host.
TASK_PLUGIN=task/cgroup
[ "$CPUS" -le "$REAL_CPUS" ] && TASK_PLUGIN=task/cgroup,task/affinity
DEF_MEM_PER_CPU=$(( MEM / CPUS ))
{
  render "$TEMPLATES/slurm.conf.in"
  if [ $CGROUP = 1 ]; then render "$TEMPLATES/slurm-cgroup.conf.in"
  else render "$TEMPLATES/slurm-nocgroup.conf.in"; fi
  if [ $ACCOUNTING = 1 ]; then
    render "$TEMPLATES/slurm-accounting.conf.in"
    [ "$GPUS" -gt 0 ] && echo "AccountingStorageTRES=gres/gpu"
  else
    echo "AccountingStorageType=accounting_storage/none"
  fi
  [ "$GPUS" -gt 0 ] && echo "GresTypes=gpu"
  render "$TEMPLATES/slurm-nodes.conf.in"
} >"$ETC/slurm.conf"

rm -f "$ETC/cgroup.conf"
if [ $CGROUP = 1 ]; then
  for c in memory freezer cpuset; do
    [ -d "/sys/fs/cgroup/$c" ] || fatal "--cgroup needs the cgroup v1 '$c' controller under /sys/fs/cgroup"
  done
  render "$TEMPLATES/cgroup.conf.in" >"$ETC/cgroup.conf"
fi

rm -f "$ETC/slurmdbd.conf"
if [ $ACCOUNTING = 1 ]; then
  mkdir -p "$DIR/db"
  chmod 0700 "$DIR/db"
  [ -s "$DIR/db/slurm.pw" ] || od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$DIR/db/slurm.pw"
  chmod 0600 "$DIR/db/slurm.pw"
  DB_PW=$(cat "$DIR/db/slurm.pw")
  umask 077
  render "$TEMPLATES/slurmdbd.conf.in" >"$ETC/slurmdbd.conf"
  umask 022
  chmod 0600 "$ETC/slurmdbd.conf"
fi

# ------------------------------------------------------------------ daemons
T_DAEMONS=$(ms_now)
TIMES=""
mark() { TIMES+="$1 $(secs_since "$T_DAEMONS"), "; }

launch munged munged "$RUN/munged.pid" -- munged --foreground \
  --socket="$MUNGE_SOCKET" --key-file="$DIR/munge/munge.key" --pid-file="$RUN/munged.pid" \
  --seed-file="$DIR/munge/seed" --log-file="$LOG/munged.log"
munge_works() { munge -n -S "$MUNGE_SOCKET" | unmunge -S "$MUNGE_SOCKET"; }
await munged "munged" munge_works
record munged; mark munged

if [ $ACCOUNTING = 1 ]; then
  if [ ! -d "$DIR/db/data/mysql" ]; then
    mariadb-install-db --no-defaults --user=root --datadir="$DIR/db/data" --skip-test-db \
      --auth-root-authentication-method=socket >"$LOG/mariadb-install-db.stdout" 2>&1 ||
      abort_start "mariadb-install-db failed" mariadb-install-db
    mark mariadb-install-db
  fi
  launch mariadbd mariadbd "$RUN/mariadbd.pid" -- mariadbd --no-defaults --user=root \
    --datadir="$DIR/db/data" --socket="$DB_SOCKET" --port="$DB_PORT" --bind-address=127.0.0.1 \
    --skip-name-resolve --pid-file="$RUN/mariadbd.pid" --log-error="$LOG/mariadbd.log" \
    --innodb-buffer-pool-size=64M --innodb-lock-wait-timeout=900 --max-connections=200
  await mariadbd "mariadbd" mariadb-admin --no-defaults --socket="$DB_SOCKET" -uroot ping
  record mariadbd
  mariadb --no-defaults --socket="$DB_SOCKET" -uroot <<EOF || abort_start "cannot create the database user" mariadbd
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PW';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PW';
GRANT ALL PRIVILEGES ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
FLUSH PRIVILEGES;
EOF
  mark mariadbd
  launch slurmdbd slurmdbd "$RUN/slurmdbd.pid" -- slurmdbd -D
  await slurmdbd "slurmdbd" tcp_port_busy "$DBD_PORT"
  record slurmdbd; mark slurmdbd
fi

launch slurmctld slurmctld "$RUN/slurmctld.pid" -- slurmctld -D -i
await slurmctld "slurmctld" scontrol ping
record slurmctld; mark slurmctld

for i in $(seq 1 "$NODES"); do
  launch "slurmd-$NODE_PREFIX$i" slurmd "$RUN/slurmd-$NODE_PREFIX$i.pid" -- slurmd -D -N "$NODE_PREFIX$i"
done
all_idle() { [ "$(sinfo -h -N -t idle -o '%N' 2>/dev/null | sort -u | wc -l)" -eq "$NODES" ]; }
await "slurmd-${NODE_PREFIX}1" "nodes idle" all_idle
for i in $(seq 1 "$NODES"); do record "slurmd-$NODE_PREFIX$i"; done
mark "nodes idle"

# slurmctld only runs its first scheduling pass a few seconds after start; jobs
# submitted earlier would wait for it, so count the cluster ready only after it.
scheduled_once() {
  local n
  n=$(sdiag 2>/dev/null | awk -F: '/^Main schedule statistics/ { s = 1 } s && /Total cycles/ { gsub(/[^0-9]/, "", $2); print $2; exit }')
  [ "${n:-0}" -gt 0 ]
}
await slurmctld "first scheduling cycle" scheduled_once
mark "scheduler"

if [ $ACCOUNTING = 1 ]; then
  registered() { sacctmgr -n -P show cluster format=cluster 2>/dev/null | grep -qx "$CLUSTER_NAME"; }
  await slurmctld "cluster registration in slurmdbd" registered
  mark "sacct ready"
fi

render "$TEMPLATES/env.sh.in" >"$DIR/env.sh"

say "ready after $(secs_since "$T_BEGIN") (${TIMES%, })"
say "$NODES node(s) ${NODE_PREFIX}1..$NODE_PREFIX$NODES, $CPUS CPUs and $GPUS GPUs each, partition '$PARTITION', slurmctld on 127.0.0.1:$CTLD_PORT$([ $ACCOUNTING = 1 ] && echo ", accounting on")$([ $CGROUP = 1 ] && echo ", cgroup enforcement on")"
say "use it:  source $DIR/env.sh    stop it:  bash $HERE/stop.sh $DIR [--purge]"
