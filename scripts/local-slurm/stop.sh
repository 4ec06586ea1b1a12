#!/usr/bin/env bash
# stop.sh -- shut down a cluster brought up by start.sh.
#
# usage: stop.sh DIR [--purge]
#
#   DIR        the directory that was given to start.sh
#   --purge    delete DIR afterwards (only if it carries start.sh's marker file)
#
# Order: jobs still known to slurmctld are cancelled and given a few seconds to
# end; job processes of this cluster that survive (identified by SLURM_CONF and
# SLURM_JOB_ID in their environment, or slurmstepd processes of this cluster) are
# killed; then the daemons recorded by start.sh in DIR/run/daemons are stopped,
# newest first. Each recorded PID is signalled only while its command name and
# start time still match, so an unrelated process that reused the PID is safe.
set -uo pipefail

PROG=local-slurm/stop
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
DIR=""
PURGE=0
for a in "$@"; do
  case $a in
    --purge) PURGE=1 ;;
    -h|--help) show_help "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "$PROG: error: unknown option '$a'" >&2; exit 2 ;;
    *) [ -z "$DIR" ] || { echo "$PROG: error: only one DIR may be given" >&2; exit 2; }; DIR=$a ;;
  esac
done
[ -n "$DIR" ] || { echo "usage: stop.sh DIR [--purge]" >&2; exit 2; }

if [ ! -d "$DIR" ]; then say "$DIR does not exist; nothing to do"; exit 0; fi
DIR=$(cd "$DIR" && pwd -P)
DAEMONS=$DIR/run/daemons
CONF=$DIR/etc/slurm.conf
export SLURM_CONF=$CONF

alive_count() {  # number of recorded daemons with command name $1 still running
  local n=0 name pid comm st
  while read -r name pid comm st; do
    [ "$comm" = "$1" ] && is_running "$pid" "$comm" "$st" && n=$((n + 1))
  done <"$DAEMONS"
  echo $n
}
# processes belonging to jobs of this cluster, as "pid:starttime" words: slurmstepd of
# this cluster, or anything carrying both our SLURM_CONF and a SLURM_JOB_ID
job_processes() {
  local f pid
  for f in $(grep -lzxF "SLURM_CONF=$CONF" /proc/[0-9]*/environ 2>/dev/null); do
    pid=${f#/proc/}; pid=${pid%/environ}
    [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ] && continue
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slurmstepd ] || grep -qz '^SLURM_JOB_ID=' "$f" 2>/dev/null; then
      echo "$pid:$(stat_field "$pid" 20)"
    fi
  done
}

if [ ! -s "$DAEMONS" ]; then
  say "no running daemons recorded in $DAEMONS"
else
  # ---------------------------------------------------------------- jobs
  if [ "$(alive_count slurmctld)" -gt 0 ] && [ -f "$CONF" ]; then
    ids=$(timeout 15 squeue -h -t PD,CF,R,S,CG,RQ,RS,RH,RF,SO,SI,ST -o %A 2>/dev/null | sort -un | tr '\n' ' ')
    if [ -n "${ids// /}" ]; then
      say "cancelling jobs: $ids"
      # shellcheck disable=SC2086
      timeout 15 scancel $ids 2>/dev/null
      if [ "$(alive_count slurmd)" -gt 0 ]; then
        for _ in $(seq 1 150); do     # up to ~15 s; KillWait is 5 s
          [ -z "$(timeout 5 squeue -h -t R,CG,CF,S,SO,SI -o %A 2>/dev/null)" ] && break
          sleep 0.1
        done
      fi
    fi
  fi
  leftovers=$(job_processes)
  if [ -n "$leftovers" ]; then
    for e in $leftovers; do
      pid=${e%%:*}; st=${e#*:}
      if [ "$(stat_field "$pid" 20 2>/dev/null)" = "$st" ]; then
        say "killing job process $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) left over by this cluster"
        kill -KILL "$pid" 2>/dev/null
      fi
    done
  fi

  # ---------------------------------------------------------------- daemons, newest first
  tac "$DAEMONS" | while read -r name pid comm st; do
    if ! is_running "$pid" "$comm" "$st"; then
      say "$name (pid $pid) already gone"
      continue
    fi
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 150); do
      is_running "$pid" "$comm" "$st" || break
      sleep 0.1
    done
    if is_running "$pid" "$comm" "$st"; then
      say "$name (pid $pid) ignored SIGTERM for 15 s; killing it"
      kill -KILL "$pid" 2>/dev/null
      sleep 0.2
    fi
    say "stopped $name (pid $pid)"
  done

  # job processes started while we were stopping (rare)
  for e in $(job_processes); do
    pid=${e%%:*}
    say "killing late job process $pid"
    kill -KILL "$pid" 2>/dev/null
  done

  # ---------------------------------------------------------------- cgroups left by slurmd
  if [ -f "$DIR/etc/cgroup.conf" ]; then
    while read -r name _ comm _; do
      [ "$comm" = slurmd ] || continue
      for cg in /sys/fs/cgroup/*/"slurm_${name#slurmd-}"; do
        [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
      done
    done <"$DAEMONS"
  fi
  mv -f "$DAEMONS" "$DAEMONS.stopped"
fi

if [ $PURGE = 1 ]; then
  if [ -e "$DIR/.benchpilot-local-slurm" ]; then
    rm -rf "$DIR"
    say "removed $DIR"
  else
    say "not removing $DIR: it was not created by start.sh (no .benchpilot-local-slurm marker)"
  fi
fi
exit 0
