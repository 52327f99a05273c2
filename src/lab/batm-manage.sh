#!/bin/bash
# casfleet lab stand-in for General Bytes' /batm/batm-manage (installed per host as /batm/batm-manage).
# Only the verbs the playbooks rely on ([C] research/cas-domain.md: `info`, `start|stop <service>`).
# Service state lives in /batm/run-state/<service> ("running"/"stopped"); the lab listener watches
# that directory, so a stopped service's ports refuse connections. Every call is logged. A test can
# make the next starts of a service fail (run-state/<service>.fail-starts holds how many).
set -u

BATM=/batm
STATE_DIR=$BATM/run-state
LOG=$BATM/logs/batm-manage.log

mkdir -p "$STATE_DIR" "$BATM/logs"
printf '%s %s\n' "$(date -Is)" "$*" >>"$LOG"

usage() {
  echo "Usage: $0 {info|start|stop} [gate|master|admin|all]" >&2
  exit 1
}

label() {
  case $1 in
    master) echo Master ;;
    admin) echo Admin ;;
    gate) echo Gate ;;
  esac
}

state() {
  if [ -f "$STATE_DIR/$1" ]; then tr -d '\n' <"$STATE_DIR/$1"; else echo running; fi
}

# Replace, not rewrite in place: the rename bumps the directory's mtime, which is what the listener polls.
set_state() {
  printf '%s\n' "$2" >"$STATE_DIR/.$1.tmp" && mv -f "$STATE_DIR/.$1.tmp" "$STATE_DIR/$1"
}


case ${1:-} in
  info)
    [ $# -eq 1 ] || usage
    for service in master admin gate; do
      echo "$(label "$service"): $(state "$service")"
    done
    admin_ip=$(sed -n 's/^admin_bind_ip=//p' "$BATM/config/network" 2>/dev/null | head -n 1)
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
      if [ "$1" = start ]; then
        # Tests make the next N starts of a service fail: run-state/<service>.fail-starts holds N.
        fails=$(cat "$STATE_DIR/$service.fail-starts" 2>/dev/null) || fails=0
        if [ "${fails:-0}" -gt 0 ]; then
          echo $((fails - 1)) >"$STATE_DIR/$service.fail-starts"
          echo "$(label "$service") failed to start" >&2
          exit 1
        fi
        set_state "$service" running
        echo "$(label "$service") started"
      else
        set_state "$service" stopped
        echo "$(label "$service") stopped"
      fi
    done
    ;;
  *)
    usage
    ;;
esac
