#!/bin/bash
# casfleet lab stand-in for General Bytes' /batm/batm-manage (installed per host as /batm/batm-manage).
# Only the verbs the playbooks rely on ([C] research/cas-domain.md: `info`, `start|stop <service>`).
# Service state lives in /batm/run-state/<service> ("running"/"stopped"); the lab listener watches
# that directory, so a stopped service's ports refuse connections. Every call is logged. A test can
# make the next starts of a service fail (run-state/<service>.fail-starts holds how many).
#
# Bash builtins only, except the one `mv` a state change needs: the bench counts what this costs
# the host as part of a Scenario B switch, so the stand-in costs as little as it can and what the
# bench shows is casfleet's own (with date, tr, sed and head it started 14 processes per restart).
set -u

BATM=/batm
STATE_DIR=$BATM/run-state
LOG=$BATM/logs/batm-manage.log

[ -d "$STATE_DIR" ] && [ -d "$BATM/logs" ] || mkdir -p "$STATE_DIR" "$BATM/logs"
# `date -Is`: 2026-12-01T10:00:00+00:00 (bash's %z has no colon).
printf -v now '%(%Y-%m-%dT%H:%M:%S%z)T' -1
printf '%s %s\n' "${now:0:-2}:${now: -2}" "$*" >>"$LOG"

usage() {
  echo "Usage: $0 {info|start|stop} [gate|master|admin|all]" >&2
  exit 1
}

# Sets $label.
label_of() {
  case $1 in
    master) label=Master ;;
    admin) label=Admin ;;
    gate) label=Gate ;;
  esac
}

# Sets $state: the first line of the service's state file, "running" without one.
state_of() {
  state=running
  if [ -f "$STATE_DIR/$1" ]; then read -r state <"$STATE_DIR/$1" || :; fi
}

# Replace, not rewrite in place: the rename bumps the directory's mtime, which is what the listener polls.
set_state() {
  printf '%s\n' "$2" >"$STATE_DIR/.$1.tmp" && mv -f "$STATE_DIR/.$1.tmp" "$STATE_DIR/$1"
}


case ${1:-} in
  info)
    [ $# -eq 1 ] || usage
    for service in master admin gate; do
      label_of "$service"
      state_of "$service"
      echo "$label: $state"
    done
    admin_ip=
    if [ -r "$BATM/config/network" ]; then
      while IFS= read -r line || [ -n "$line" ]; do
        case $line in admin_bind_ip=*) admin_ip=${line#admin_bind_ip=} && break ;; esac
      done <"$BATM/config/network"
    fi
    echo "Admin IP: ${admin_ip:-unknown}:7777"
    ;;
  start | stop)
    [ $# -eq 2 ] || usage
    case $2 in
      all) services="master admin gate" ;;
      master | admin | gate) services=$2 ;;
      *) usage ;;
    esac
    for service in $services; do
      label_of "$service"
      if [ "$1" = start ]; then
        # Tests make the next N starts of a service fail: run-state/<service>.fail-starts holds N.
        fails=0
        if [ -f "$STATE_DIR/$service.fail-starts" ]; then read -r fails <"$STATE_DIR/$service.fail-starts" || :; fi
        if [ "${fails:-0}" -gt 0 ]; then
          echo $((fails - 1)) >"$STATE_DIR/$service.fail-starts"
          echo "$label failed to start" >&2
          exit 1
        fi
        set_state "$service" running
        # A real service inherits the environment of whoever started it (its JVM reads the locale
        # for file names and, before Java 18, its default charset): tests read what a start passed on.
        printf 'LC_ALL=%s\nLANG=%s\n' "${LC_ALL-}" "${LANG-}" >"$STATE_DIR/$service.locale"
        echo "$label started"
      else
        set_state "$service" stopped
        echo "$label stopped"
      fi
    done
    ;;
  *)
    usage
    ;;
esac
