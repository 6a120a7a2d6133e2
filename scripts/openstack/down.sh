#!/usr/bin/env bash
# Stop exactly the processes that up.sh started, using its pid files in $OSBOX_DIR/run.
# OpenStack services first, then rabbitmq, epmd, mariadb. Data stays (up.sh reuses it);
# remove $OSBOX_DIR by hand for a cold start.
# A MariaDB / RabbitMQ that up.sh found running (the machine's own) has no pid file here
# and is never stopped; a pid file whose process does not name $OSBOX_DIR is ignored too.
set -uo pipefail
OSBOX_DIR=${OSBOX_DIR:-/var/tmp/govcloud-osbox}
RUN=$OSBOX_DIR/run

tree() {  # tree PID : PID and all its descendants
  echo "$1"
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done
}
running() {  # running PID : true if PID exists and is not a zombie
  local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}
ours() {  # ours PID : its command line or environment names $OSBOX_DIR (up.sh started it)
  cat "/proc/$1/cmdline" "/proc/$1/environ" 2>/dev/null | tr '\0' '\n' | grep -qF "$OSBOX_DIR"
}
stop() {  # stop NAME [check] : TERM the pid in $RUN/NAME.pid, then KILL whatever of its tree is left after 20s
  local f=$RUN/$1.pid pid pids p t=$SECONDS
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "${2:-}" ] && [ -n "$pid" ] && running "$pid" && ! ours "$pid"; then
    echo "[osbox] $1: pid $pid is not ours, left running"; rm -f "$f"; return 0
  fi
  if [ -n "$pid" ] && running "$pid"; then
    pids=$(tree "$pid")          # children (gunicorn workers, service workers) listed before TERM
    kill "$pid"
    for i in $(seq 1 40); do
      alive=""; for p in $pids; do running "$p" && alive="$alive $p"; done
      [ -z "$alive" ] && break; sleep 0.5
    done
    for p in $alive; do
      echo "[osbox] $1: pid $p still there after TERM, sending KILL"; kill -9 "$p" 2>/dev/null
    done
    echo "[osbox] stopped $1 ($pid) in $((SECONDS - t))s"
  fi
  rm -f "$f"
}

for s in nova-compute cinder-volume nova-conductor nova-scheduler cinder-scheduler \
         nova-api neutron-api cinder-api glance-api placement keystone; do
  stop "$s" &
done
wait
stop rabbitmq check   # beam.smp; SIGTERM makes the Erlang VM shut down cleanly
stop epmd check
stop mariadb check
SHARE_MNT=$(awk -v b="$OSBOX_DIR/data/cinder/mnt/" 'index($2, b) == 1 {print $2}' /proc/mounts)
for m in $SHARE_MNT; do umount "$m" && echo "[osbox] unmounted $m"; done
exit 0
