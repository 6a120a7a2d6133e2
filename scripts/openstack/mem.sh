#!/bin/bash
# osbox: sum RSS/PSS of every process tree rooted at a pid file in $OSBOX_DIR/run
OSBOX_DIR=${OSBOX_DIR:-/var/tmp/govcloud-osbox}
tree() { echo $1; for c in $(ps -o pid= --ppid $1); do tree $c; done; }
tot_rss=0; tot_pss=0
for f in $OSBOX_DIR/run/*.pid; do
  n=$(basename $f .pid); rss=0; pss=0; cnt=0
  for p in $(tree $(cat $f)); do
    r=$(awk '/^VmRSS/{print $2}' /proc/$p/status 2>/dev/null); s=$(awk '/^Pss:/{print $2}' /proc/$p/smaps_rollup 2>/dev/null)
    rss=$((rss + ${r:-0})); pss=$((pss + ${s:-0})); cnt=$((cnt+1))
  done
  printf '%-18s procs=%-2d rss=%6d MiB pss=%6d MiB\n' $n $cnt $((rss/1024)) $((pss/1024))
  tot_rss=$((tot_rss+rss)); tot_pss=$((tot_pss+pss))
done
printf '%-18s          rss=%6d MiB pss=%6d MiB\n' TOTAL $((tot_rss/1024)) $((tot_pss/1024))
