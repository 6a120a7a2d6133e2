#!/usr/bin/env bash
# Exit 0 only when every OpenStack API of the test cloud answers on 127.0.0.1; one line each.
OSBOX_DIR=${OSBOX_DIR:-/var/tmp/govcloud-osbox}
ok=0
for svc in keystone:5000 placement:8778 nova:8774 neutron:9696 cinder:8776 glance:9292; do
  name=${svc%%:*}; port=${svc##*:}
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/" || true)
  case $code in 2*|3*|401|404) echo "$name 127.0.0.1:$port up ($code)";;
    *) echo "$name 127.0.0.1:$port DOWN (${code:-no answer})"; ok=1;; esac
done
[ -f "$OSBOX_DIR/clouds.yaml" ] && echo "clouds.yaml: $OSBOX_DIR/clouds.yaml" || { echo "no clouds.yaml"; ok=1; }
exit $ok
