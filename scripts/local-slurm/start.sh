#!/usr/bin/env bash
# start.sh -- bring up a disposable, real Slurm cluster on this single machine.
#
# Intended for tests and CI of benchpilot. Must be run as root. Debian packages
# (munge, slurmctld, slurmd, slurm-client; slurmdbd + mariadb-server for
# --accounting) are installed with apt-get when missing. All daemons run as plain
# background processes (no systemd); every file they use (configs, keys, sockets,
# state, spool, logs, database) lives below DIR. Several compute nodes are
# emulated by running one slurmd per node (node1..nodeN), each with fake GPUs
# exposed through GRES. Only 127.0.0.1 is used for traffic.
#
# usage: start.sh DIR [options]
#
#   DIR                 cluster directory; keep it short (<= 64 chars) because unix
#                       socket paths below it must stay under 108 bytes
#   --nodes N           emulated compute nodes node1..nodeN          (default 4)
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
#   --no-install        fail instead of installing missing packages
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

DIR=""
NODES=4
CPUS=16
GPUS=8
MEM=""
PARTITION=main
PORT_BASE=6817
ACCOUNTING=0
CGROUP=0
MIN_JOB_AGE=3600
KEEP_STATE=0
INSTALL=1
TIMEOUT=60
CLUSTER_NAME=bpcluster

say() { printf '%s: %s\n' "$PROG" "$*"; }
fatal() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
show_help() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
ms_now() { date +%s%3N; }
secs_since() { local d=$(( $(ms_now) - $1 )); printf '%d.%02ds' $((d / 1000)) $(((d % 1000) / 10)); }

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || fatal "option $1 needs a value"; }
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) need_value "$@"; NODES=$2; shift 2 ;;
    --cpus) need_value "$@"; CPUS=$2; shift 2 ;;
    --gpus) need_value "$@"; GPUS=$2; shift 2 ;;
    --mem) need_value "$@"; MEM=$2; shift 2 ;;
    --partition) need_value "$@"; PARTITION=$2; shift 2 ;;
    --port-base) need_value "$@"; PORT_BASE=$2; shift 2 ;;
    --accounting) ACCOUNTING=1; shift ;;
    --cgroup) CGROUP=1; shift ;;
    --min-job-age) need_value "$@"; MIN_JOB_AGE=$2; shift 2 ;;
    --keep-state) KEEP_STATE=1; shift ;;
    --no-install) INSTALL=0; shift ;;
    --timeout) need_value "$@"; TIMEOUT=$2; shift 2 ;;
    -h|--help) show_help; exit 0 ;;
    -*) fatal "unknown option '$1' (try --help)" ;;
    *) [ -z "$DIR" ] || fatal "only one DIR may be given (got '$DIR' and '$1')"; DIR=$1; shift ;;
  esac
done

[ -n "$DIR" ] || { show_help >&2; exit 2; }
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

# ------------------------------------------------------------------ process helpers
# stat_field PID N: field N (counting from the one after the command name) of /proc/PID/stat
stat_field() {
  local s n=$2 f
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  read -r -a f <<<"$s"
  printf '%s' "${f[$((n - 1))]:-}"
}
# is_running PID COMM [STARTTIME]: PID exists, is no zombie, has that command name
# (and, if given, that start time, which protects against reused PIDs)
is_running() {
  local st
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  st=$(stat_field "$1" 1) || return 1
  [ "$st" != Z ] && [ "$st" != X ] || return 1
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] || return 1
  [ -z "${3:-}" ] || [ "$(stat_field "$1" 20)" = "$3" ]
}
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
if [ ${#todo[@]} -gt 0 ]; then
  [ $INSTALL = 1 ] || fatal "missing Debian packages: ${todo[*]} (drop --no-install to install them)"
  t=$(ms_now)
  say "installing Debian packages: ${todo[*]}"
  # The packages' maintainer scripts would start system-wide munged/slurm daemons
  # (default ports, /run/munge). A policy-rc.d that answers 101 forbids that.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# temporary, from benchpilot local-slurm/start.sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      -o DPkg::Lock::Timeout=300 "${todo[@]}"
  } >"$DIR/apt-get.log" 2>&1 || rc=$?
  [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ $rc != 0 ]; then tail -n 25 "$DIR/apt-get.log" >&2; fatal "apt-get failed (see $DIR/apt-get.log)"; fi
  say "packages installed in $(secs_since "$t")"
fi

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
for i in $(seq 1 "$NODES"); do mkdir -p "$DIR/spool/node$i"; done
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
if [ "$NODES" -eq 1 ]; then NODE_NAMES=node1; NODE_PORTS=$((PORT_BASE + 11))
else NODE_NAMES="node[1-$NODES]"; NODE_PORTS="[$((PORT_BASE + 11))-$((PORT_BASE + 10 + NODES))]"; fi

GRES_ATTR=""
rm -f "$ETC/gres.conf"
if [ "$GPUS" -gt 0 ]; then
  GRES_ATTR=" Gres=gpu:$GPUS"
  # GRES needs File= entries that are character devices; /dev/null symlinks do.
  {
    echo "# written by local-slurm/start.sh: fake GPUs, one /dev/null link per device"
    echo "AutoDetect=off"
    for i in $(seq 1 "$NODES"); do
      mkdir -p "$DIR/gpus/node$i"
      for g in $(seq 0 $((GPUS - 1))); do ln -sfn /dev/null "$DIR/gpus/node$i/nvidia$g"; done
      echo "NodeName=node$i Name=gpu File=$DIR/gpus/node$i/nvidia[0-$((GPUS - 1))]"
    done
  } >"$ETC/gres.conf"
fi

{
  cat <<EOF
# slurm.conf written by benchpilot scripts/local-slurm/start.sh -- test cluster, regenerated on every start
ClusterName=$CLUSTER_NAME
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
MpiDefault=none
SelectType=select/cons_tres
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=10
# Fast turnaround for tests: no 3 s batch delay, short backfill period, quick kills.
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,bf_interval=5,default_queue_depth=500
SchedulerTimeSlice=5
KillWait=5
InactiveLimit=0
ReturnToService=2
# Several slurmd on one host, declaring more CPUs/memory than really exist.
SlurmdParameters=config_overrides
DependencyParameters=kill_invalid_depend
# Finished jobs stay visible to squeue/scontrol for a while and are logged to a file.
MinJobAge=$MIN_JOB_AGE
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG/jobcomp.log
EOF
  if [ $CGROUP = 1 ]; then
    # task/affinity cannot bind to CPUs that do not exist, so only add it when the
    # declared CPU count fits the host.
    tp=task/cgroup
    [ "$CPUS" -le "$REAL_CPUS" ] && tp=task/cgroup,task/affinity
    cat <<EOF
# cgroup v1 containment; memory is a consumable resource and is enforced
ProctrackType=proctrack/cgroup
TaskPlugin=$tp
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$(( MEM / CPUS ))
EOF
  else
    cat <<EOF
# no cgroups: processes tracked through /proc only, memory not enforced
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectTypeParameters=CR_Core
EOF
  fi
  if [ $ACCOUNTING = 1 ]; then
    cat <<EOF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# slurmctld talks munge to slurmdbd through the socket named here (not AuthInfo)
AccountingStoragePass=$MUNGE_SOCKET
EOF
    [ "$GPUS" -gt 0 ] && echo "AccountingStorageTRES=gres/gpu"
  else
    echo "AccountingStorageType=accounting_storage/none"
  fi
  [ "$GPUS" -gt 0 ] && echo "GresTypes=gpu"
  echo "NodeName=$NODE_NAMES NodeHostname=$HOST NodeAddr=127.0.0.1 Port=$NODE_PORTS CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$MEM$GRES_ATTR State=UNKNOWN"
  echo "PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO"
} >"$ETC/slurm.conf"

rm -f "$ETC/cgroup.conf"
if [ $CGROUP = 1 ]; then
  for c in memory freezer cpuset; do
    [ -d "/sys/fs/cgroup/$c" ] || fatal "--cgroup needs the cgroup v1 '$c' controller under /sys/fs/cgroup"
  done
  cat >"$ETC/cgroup.conf" <<EOF
# written by local-slurm/start.sh
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
ConstrainRAMSpace=yes
ConstrainSwapSpace=no
ConstrainCores=no
ConstrainDevices=no
EOF
fi

rm -f "$ETC/slurmdbd.conf"
if [ $ACCOUNTING = 1 ]; then
  mkdir -p "$DIR/db"
  chmod 0700 "$DIR/db"
  [ -s "$DIR/db/slurm.pw" ] || od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$DIR/db/slurm.pw"
  chmod 0600 "$DIR/db/slurm.pw"
  DB_PW=$(cat "$DIR/db/slurm.pw")
  umask 077
  cat >"$ETC/slurmdbd.conf" <<EOF
# written by local-slurm/start.sh
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdHost=$HOST
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
DebugLevel=info
LogFile=$LOG/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PW
StorageLoc=slurm_acct_db
EOF
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
  launch "slurmd-node$i" slurmd "$RUN/slurmd-node$i.pid" -- slurmd -D -N "node$i"
done
all_idle() { [ "$(sinfo -h -N -t idle -o '%N' 2>/dev/null | sort -u | wc -l)" -eq "$NODES" ]; }
await slurmd-node1 "nodes idle" all_idle
for i in $(seq 1 "$NODES"); do record "slurmd-node$i"; done
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

cat >"$DIR/env.sh" <<EOF
# source this file to use the local Slurm cluster in $DIR
export SLURM_CONF=$ETC/slurm.conf
export LOCAL_SLURM_DIR=$DIR
export LOCAL_SLURM_PARTITION=$PARTITION
export LOCAL_SLURM_NODES=$NODES
export LOCAL_SLURM_CPUS_PER_NODE=$CPUS
export LOCAL_SLURM_GPUS_PER_NODE=$GPUS
export LOCAL_SLURM_ACCOUNTING=$ACCOUNTING
export LOCAL_SLURM_CGROUP=$CGROUP
export LOCAL_SLURM_JOBCOMP=$LOG/jobcomp.log
EOF

say "ready after $(secs_since "$T_BEGIN") (${TIMES%, })"
say "$NODES node(s) node1..node$NODES, $CPUS CPUs and $GPUS GPUs each, partition '$PARTITION', slurmctld on 127.0.0.1:$CTLD_PORT$([ $ACCOUNTING = 1 ] && echo ", accounting on")$([ $CGROUP = 1 ] && echo ", cgroup enforcement on")"
say "use it:  source $DIR/env.sh    stop it:  bash $HERE/stop.sh $DIR [--purge]"
