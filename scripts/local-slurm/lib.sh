# lib.sh -- helpers shared by start.sh and stop.sh (sourced, not run). The caller sets PROG.
# shellcheck shell=bash

say() { printf '%s: %s\n' "$PROG" "$*"; }
fatal() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
show_help() { awk '/^# shellcheck/ { next } NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"; }

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

# render TEMPLATE: print TEMPLATE with every @NAME@ replaced by the value of the shell variable
# NAME (an unset variable is an error under set -u). Values are inserted once, never rescanned.
render() {
  local line out name
  while IFS= read -r line || [[ -n $line ]]; do
    out=""
    while [[ $line =~ ^([^@]*)@([A-Z_]+)@(.*)$ ]]; do
      name=${BASH_REMATCH[2]}
      out+=${BASH_REMATCH[1]}${!name}
      line=${BASH_REMATCH[3]}
    done
    printf '%s%s\n' "$out" "$line"
  done <"$1"
}
