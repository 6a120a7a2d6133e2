#!/usr/bin/env bash
# osbox: real OpenStack services (keystone, placement, nova w/ fake virt driver,
# neutron ML2 w/o agents, cinder NFS driver on a bind mount, glance file store)
# from PyPI, on one machine, everything bound to 127.0.0.1.
# Idempotent: re-running skips what is already installed / initialised / running.
# MariaDB and RabbitMQ: a server already answering on 127.0.0.1:3306 (root, empty password)
# or 127.0.0.1:5672 that this script did not start (e.g. the machine's own, from Debian) is
# used as it is: never installed, started or stopped here; only the 'osbox' DB user, the
# osbox_* databases and the 'osbox' vhost+user are created in it. Where nothing answers,
# up.sh installs and starts its own (own datadir, pid files in $OSBOX_DIR/run).
# Usage: [OSBOX_DIR=/some/dir] bash up.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OSBOX_DIR=${OSBOX_DIR:-/var/tmp/govcloud-osbox}
VENV=$OSBOX_DIR/venv
ETC=$OSBOX_DIR/etc
RUN=$OSBOX_DIR/run
LOGS=$OSBOX_DIR/logs
DATA=$OSBOX_DIR/data
STATE=$OSBOX_DIR/state
PW=osbox                      # every password in this test rig
DBURL="mysql+pymysql://osbox:$PW@127.0.0.1"
RABBIT="rabbit://guest:guest@127.0.0.1:5672/"
DBS="keystone placement nova_api nova nova_cell0 neutron cinder glance"   # created as osbox_<name>
KS=http://127.0.0.1:5000
mkdir -p "$ETC" "$RUN" "$LOGS" "$DATA" "$STATE" "$OSBOX_DIR/bin" "$OSBOX_DIR/lib"

T0=$(date +%s.%N)
PHASE_T=$T0
phase() {  # phase NAME : print the time the previous phase took, start a new one
  local now; now=$(date +%s.%N)
  [ -n "${PHASE_NAME:-}" ] && printf '[osbox] %-14s %6.1fs\n' "$PHASE_NAME" "$(awk "BEGIN{print $now - $PHASE_T}")"
  PHASE_NAME=$1; PHASE_T=$now
}
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
ours() {  # ours PIDFILE : alive, and started by us (its command line or environment names $OSBOX_DIR)
  alive "$1" && cat "/proc/$(cat "$1")/cmdline" "/proc/$(cat "$1")/environ" 2>/dev/null | tr '\0' '\n' | grep -qF "$OSBOX_DIR"
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# use a MariaDB / RabbitMQ that is already running and not ours ("system"), else start our own
DB_MODE=own; MQ_MODE=own
if ! ours "$RUN/mariadb.pid" && port_open 3306; then DB_MODE=system; fi
if ! ours "$OSBOX_DIR/rabbitmq/rabbit.pid" && port_open 5672; then
  MQ_MODE=system; RABBIT="rabbit://osbox:$PW@127.0.0.1:5672/osbox"   # vhost+user made below
fi
echo "[osbox] mariadb: $DB_MODE, rabbitmq: $MQ_MODE"

# ---------------------------------------------------------------- apt
phase apt
APT_PKGS="qemu-utils curl"
if [ $DB_MODE = own ]; then APT_PKGS="$APT_PKGS mariadb-server"
elif ! command -v mariadb >/dev/null; then APT_PKGS="$APT_PKGS mariadb-client"; fi
if [ $MQ_MODE = own ]; then APT_PKGS="$APT_PKGS rabbitmq-server"; fi
missing=""
for p in $APT_PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing > "$LOGS/apt.log" 2>&1
fi

# ---------------------------------------------------------------- venv
phase pip
if [ ! -x "$VENV/bin/nova-compute" ] || [ ! -f "$STATE/pip.done" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -U pip > "$LOGS/pip.log" 2>&1
  "$VENV/bin/pip" install -r "$HERE/requirements-lock.txt" >> "$LOGS/pip.log" 2>&1
  rm -rf "$OSBOX_DIR/lib/osbox_fakebind"; cp -r "$HERE/osbox_fakebind" "$OSBOX_DIR/lib/"   # build outside the repo
  "$VENV/bin/pip" install --no-deps "$OSBOX_DIR/lib/osbox_fakebind" >> "$LOGS/pip.log" 2>&1
  touch "$STATE/pip.done"
fi
cp "$HERE/osbox_wsgi.py" "$OSBOX_DIR/lib/osbox_wsgi.py"
# root already: "sudo [x-rootwrap CONF] cmd..." -> "cmd..." (services hardcode sudo+rootwrap)
cat > "$OSBOX_DIR/bin/sudo" <<'EOF'
#!/bin/sh
case "$1" in *-rootwrap) shift 2;; esac
exec "$@"
EOF
# cinder's NFS driver only checks that mount.nfs exists; the share is a pre-made bind
# mount, so a real NFS mount is never attempted (this stub fails if it ever is)
cat > "$OSBOX_DIR/bin/mount.nfs" <<'EOF'
#!/bin/sh
echo "osbox: mount.nfs stub, no NFS here" >&2; exit 1
EOF
chmod +x "$OSBOX_DIR/bin/sudo" "$OSBOX_DIR/bin/mount.nfs"
export PATH="$OSBOX_DIR/bin:$VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# ---------------------------------------------------------------- mariadb
phase mariadb
SOCK=$RUN/mysqld.sock
if [ $DB_MODE = own ]; then
  if [ ! -d "$OSBOX_DIR/mysql-data/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$OSBOX_DIR/mysql-data" --user=root \
      --auth-root-authentication-method=normal --skip-test-db > "$LOGS/mariadb-install.log" 2>&1
  fi
  if ! alive "$RUN/mariadb.pid"; then
    start-stop-daemon --start --oknodo --background --make-pidfile --pidfile "$RUN/mariadb.pid" \
      --exec /usr/sbin/mariadbd -- --no-defaults --datadir="$OSBOX_DIR/mysql-data" --user=root \
      --bind-address=127.0.0.1 --port=3306 --socket="$SOCK" --log-error="$LOGS/mariadb.log" \
      --max-connections=1000 --innodb-buffer-pool-size=128M --skip-name-resolve \
      --innodb-flush-log-at-trx-commit=0 --performance-schema=OFF
  fi
  SQL="mariadb --socket=$SOCK -uroot"
  for i in $(seq 1 60); do $SQL -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
else
  SQL="mariadb --protocol=tcp -h127.0.0.1 -P3306 -uroot"
  $SQL -e 'select 1' >/dev/null || { echo "[osbox] MariaDB on 127.0.0.1:3306 refuses root with an empty password"; exit 1; }
fi
# A DB counts as initialised only while both it and its marker in $STATE exist: forget markers
# whose DB is gone, drop osbox_* DBs that have no marker (left by an earlier $OSBOX_DIR, or a
# failed sync), so that "rm -rf $OSBOX_DIR" gives a cold start with a running MariaDB too.
marker() { case $1 in nova*) echo "$STATE/nova.db";; *) echo "$STATE/$1.db";; esac; }
have=$($SQL -N -e "SHOW DATABASES LIKE 'osbox\_%'")
for d in $DBS; do grep -qx "osbox_$d" <<< "$have" || rm -f "$(marker "$d")"; done
[ -f "$STATE/keystone.db" ] || rm -f "$STATE/catalog.done"
# nova keeps the broker URL in its cell mapping: another broker, a new nova DB
[ "$(cat "$STATE/rabbit.url" 2>/dev/null)" = "$RABBIT" ] || rm -f "$STATE/nova.db"
echo "$RABBIT" > "$STATE/rabbit.url"
{
  echo "CREATE USER IF NOT EXISTS 'osbox'@'127.0.0.1' IDENTIFIED BY '$PW';"
  echo "ALTER USER 'osbox'@'127.0.0.1' IDENTIFIED BY '$PW';"
  for d in $DBS; do
    [ -f "$(marker "$d")" ] || echo "DROP DATABASE IF EXISTS osbox_$d;"
    echo "CREATE DATABASE IF NOT EXISTS osbox_$d; GRANT ALL PRIVILEGES ON osbox_$d.* TO 'osbox'@'127.0.0.1';"
  done
} | $SQL

# ---------------------------------------------------------------- rabbitmq
phase rabbitmq
if [ $MQ_MODE = own ]; then
  mkdir -p "$OSBOX_DIR/rabbitmq/mnesia" "$OSBOX_DIR/rabbitmq/log"
  chown -R rabbitmq:rabbitmq "$OSBOX_DIR/rabbitmq"
  export RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_MNESIA_BASE=$OSBOX_DIR/rabbitmq/mnesia RABBITMQ_LOG_BASE=$OSBOX_DIR/rabbitmq/log \
    RABBITMQ_PID_FILE=$OSBOX_DIR/rabbitmq/rabbit.pid \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  if ! alive "$RUN/epmd.pid"; then
    start-stop-daemon --start --oknodo --background --make-pidfile --pidfile "$RUN/epmd.pid" \
      --exec /usr/bin/epmd -- -address 127.0.0.1
  fi
  if ! alive "$OSBOX_DIR/rabbitmq/rabbit.pid"; then
    rabbitmq-server -detached
  fi
  rabbitmqctl -q await_startup --timeout 60 >/dev/null 2>&1 || { sleep 3; rabbitmqctl -q await_startup --timeout 60; }
  cp "$OSBOX_DIR/rabbitmq/rabbit.pid" "$RUN/rabbitmq.pid"
else
  # the running broker: our own vhost and user, so that our queues stay out of its "/";
  # a vhost without our marker (left by an earlier $OSBOX_DIR) is made anew
  if [ ! -f "$STATE/rabbit.vhost" ] || ! rabbitmqctl -q list_permissions -p osbox 2>/dev/null | grep -q '^osbox'; then
    rabbitmqctl -q delete_vhost osbox >/dev/null 2>&1 || true
    rabbitmqctl -q add_vhost osbox
    rabbitmqctl -q add_user osbox "$PW" >/dev/null 2>&1 || rabbitmqctl -q change_password osbox "$PW"
    rabbitmqctl -q set_permissions -p osbox osbox '.*' '.*' '.*'
    touch "$STATE/rabbit.vhost"
  fi
fi

# ---------------------------------------------------------------- configs
phase configs
mkdir -p "$ETC"/{keystone,placement,nova,neutron/plugins/ml2,cinder,glance} \
  "$DATA"/{nova/instances,nova/lock,neutron/lock,cinder/lock,cinder/mnt,cinder/share,glance/images,glance/staging,glance/tasks,glance/lock}

authtoken() {  # authtoken USER
cat <<EOF
[keystone_authtoken]
www_authenticate_uri = $KS/v3
auth_url = $KS/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $PW
service_token_roles_required = true
EOF
}
svcauth() {  # svcauth SECTION USER : keystoneauth password plugin section
cat <<EOF
[$1]
auth_url = $KS/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $PW
region_name = RegionOne
EOF
}

cat > "$ETC/keystone/keystone.conf" <<EOF
[DEFAULT]
log_file = $LOGS/keystone.log
[database]
connection = $DBURL/osbox_keystone
[token]
provider = fernet
[fernet_tokens]
key_repository = $ETC/keystone/fernet-keys/
[fernet_receipts]
key_repository = $ETC/keystone/fernet-keys/
[credential]
key_repository = $ETC/keystone/credential-keys/
EOF

cat > "$ETC/placement/placement.conf" <<EOF
[DEFAULT]
log_file = $LOGS/placement.log
[api]
auth_strategy = keystone
[placement_database]
connection = $DBURL/osbox_placement
$(authtoken placement)
EOF

cat > "$ETC/nova/nova.conf" <<EOF
[DEFAULT]
host = osbox
my_ip = 127.0.0.1
state_path = $DATA/nova
instances_path = $DATA/nova/instances
transport_url = $RABBIT
compute_driver = fake.FakeDriverWithoutFakeNodes
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
osapi_compute_workers = 1
metadata_workers = 1
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = $ETC/nova/api-paste.ini
[api_database]
connection = $DBURL/osbox_nova_api
[database]
connection = $DBURL/osbox_nova
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 5
[oslo_concurrency]
lock_path = $DATA/nova/lock
[vnc]
enabled = false
[spice]
enabled = false
[cinder]
os_region_name = RegionOne
$(authtoken nova)
$(svcauth placement nova)
valid_interfaces = public
$(svcauth neutron nova)
$(svcauth service_user nova)
send_service_user_token = true
[glance]
valid_interfaces = public
EOF

cat > "$ETC/neutron/neutron.conf" <<EOF
[DEFAULT]
log_file = $LOGS/neutron.log
state_path = $DATA/neutron
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $RABBIT
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
api_paste_config = $VENV/etc/neutron/api-paste.ini
[database]
connection = $DBURL/osbox_neutron
[oslo_concurrency]
lock_path = $DATA/neutron/lock
$(authtoken neutron)
$(svcauth nova neutron)
EOF
cat > "$ETC/neutron/plugins/ml2/ml2_conf.ini" <<EOF
[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = osbox_fakebind
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vlan]
network_vlan_ranges = internet,extranet,physnet1:100:199
[ml2_type_vxlan]
vni_ranges = 1:10000
EOF

echo "127.0.0.1:/osbox-cinder" > "$ETC/cinder/nfs_shares"
cat > "$ETC/cinder/cinder.conf" <<EOF
[DEFAULT]
host = osbox
my_ip = 127.0.0.1
log_file = $LOGS/cinder.log
state_path = $DATA/cinder
transport_url = $RABBIT
auth_strategy = keystone
api_paste_config = $HERE/cinder-api-paste.ini
enabled_backends = nfs1
default_volume_type = __DEFAULT__
osapi_volume_workers = 1
[database]
connection = $DBURL/osbox_cinder
[oslo_concurrency]
lock_path = $DATA/cinder/lock
$(authtoken cinder)
$(svcauth nova cinder)
[nfs1]
volume_driver = cinder.volume.drivers.nfs.NfsDriver
volume_backend_name = nfs1
nfs_shares_config = $ETC/cinder/nfs_shares
nfs_mount_point_base = $DATA/cinder/mnt
nfs_sparsed_volumes = true
nfs_snapshot_support = true
nas_secure_file_operations = false
nas_secure_file_permissions = false
EOF

cat > "$ETC/glance/glance-api.conf" <<EOF
[DEFAULT]
log_file = $LOGS/glance.log
enabled_backends = fs:file
workers = 1
[database]
connection = $DBURL/osbox_glance
[paste_deploy]
flavor = keystone
config_file = $VENV/etc/glance/glance-api-paste.ini
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $DATA/glance/images/
[os_glance_staging_store]
filesystem_store_datadir = $DATA/glance/staging/
[os_glance_tasks_store]
filesystem_store_datadir = $DATA/glance/tasks/
[oslo_concurrency]
lock_path = $DATA/glance/lock
$(authtoken glance)
EOF

# cinder NFS driver: the "share" is a bind mount of a plain directory placed where
# os-brick expects the NFS mount (mount base / md5(share)); os-brick then sees it
# as already mounted and never runs mount.nfs. Volumes are plain files on the host.
SHARE_MNT=$DATA/cinder/mnt/$(printf '%s' "127.0.0.1:/osbox-cinder" | md5sum | cut -d' ' -f1)
mkdir -p "$SHARE_MNT"
grep -q " $SHARE_MNT " /proc/mounts || mount --bind "$DATA/cinder/share" "$SHARE_MNT"

# the recipe's admin cloud 'osbox' and the one govcloud.toml names, 'govcloud-admin'
{
  echo "clouds:"
  for cloud in osbox govcloud-admin; do
    cat <<EOF
  $cloud:
    auth:
      auth_url: $KS/v3
      username: admin
      password: $PW
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
EOF
  done
} > "$OSBOX_DIR/clouds.yaml"

# ---------------------------------------------------------------- db sync (parallel)
phase db-sync
dbsync() {  # dbsync NAME CMD... : once, marker in $STATE
  local name=$1; shift
  [ -f "$STATE/$name.db" ] && return 0
  ( "$@" > "$LOGS/dbsync-$name.log" 2>&1 && touch "$STATE/$name.db" ) &
}
dbsync keystone sh -c "keystone-manage --config-file $ETC/keystone/keystone.conf db_sync && \
  keystone-manage --config-file $ETC/keystone/keystone.conf fernet_setup --keystone-user root --keystone-group root && \
  keystone-manage --config-file $ETC/keystone/keystone.conf credential_setup --keystone-user root --keystone-group root && \
  keystone-manage --config-file $ETC/keystone/keystone.conf bootstrap --bootstrap-password $PW \
    --bootstrap-admin-url $KS/v3/ --bootstrap-internal-url $KS/v3/ --bootstrap-public-url $KS/v3/ \
    --bootstrap-region-id RegionOne"
dbsync placement placement-manage --config-file "$ETC/placement/placement.conf" db sync
dbsync nova sh -c "nova-manage --config-file $ETC/nova/nova.conf api_db sync && \
  nova-manage --config-file $ETC/nova/nova.conf cell_v2 map_cell0 --database_connection $DBURL/osbox_nova_cell0 && \
  (nova-manage --config-file $ETC/nova/nova.conf cell_v2 list_cells | grep -q ' cell1 ' || \
   nova-manage --config-file $ETC/nova/nova.conf cell_v2 create_cell --name cell1) && \
  nova-manage --config-file $ETC/nova/nova.conf db sync"
dbsync neutron neutron-db-manage --config-file "$ETC/neutron/neutron.conf" \
  --config-file "$ETC/neutron/plugins/ml2/ml2_conf.ini" upgrade heads
dbsync cinder cinder-manage --config-file "$ETC/cinder/cinder.conf" db sync
dbsync glance glance-manage --config-file "$ETC/glance/glance-api.conf" db_sync
wait
for n in keystone placement nova neutron cinder glance; do
  [ -f "$STATE/$n.db" ] || { echo "[osbox] db sync $n FAILED, see $LOGS/dbsync-$n.log"; tail -5 "$LOGS/dbsync-$n.log"; exit 1; }
done

# ---------------------------------------------------------------- services
phase start
start_svc() {  # start_svc NAME CMD... : background, pid file in $RUN
  local name=$1; shift
  alive "$RUN/$name.pid" && return 0
  setsid "$@" >> "$LOGS/$name.out" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}
wsgi() {  # wsgi NAME PORT MODULE [ENV=VAL...]
  local name=$1 port=$2 mod=$3; shift 3
  start_svc "$name" env OSBOX_WSGI_MODULE="$mod" "$@" \
    gunicorn --pythonpath "$OSBOX_DIR/lib" -b "127.0.0.1:$port" -w 1 --threads 4 --timeout 300 \
      --keep-alive 120 --graceful-timeout 5 --no-control-socket \
      --name "osbox-$name" --access-logfile "$LOGS/$name.access.log" osbox_wsgi:application
}
wsgi keystone 5000 keystone.wsgi.api OS_KEYSTONE_CONFIG_DIR="$ETC/keystone" OS_KEYSTONE_CONFIG_FILES=keystone.conf
wsgi placement 8778 placement.wsgi.api OS_PLACEMENT_CONFIG_DIR="$ETC/placement"
cp "$VENV/etc/nova/api-paste.ini" "$ETC/nova/api-paste.ini"   # nova-api loads paste from the 1st config file
wsgi nova-api 8774 nova.wsgi.osapi_compute OS_NOVA_CONFIG_DIR="$ETC/nova" OS_NOVA_CONFIG_FILES="api-paste.ini;nova.conf"
wsgi neutron-api 9696 neutron.wsgi.api OS_NEUTRON_CONFIG_DIR="$ETC/neutron" \
  OS_NEUTRON_CONFIG_FILES="neutron.conf;plugins/ml2/ml2_conf.ini"
wsgi cinder-api 8776 cinder.wsgi.api OSBOX_ARGV="cinder-api --config-file $ETC/cinder/cinder.conf"
wsgi glance-api 9292 glance.wsgi.api OS_GLANCE_CONFIG_DIR="$ETC/glance"

# ---------------------------------------------------------------- keystone catalog
phase catalog
wait_http() {  # wait_http URL [TIMEOUT]
  local t=${2:-120}
  for i in $(seq 1 $((t * 2))); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)
    case "$code" in 2*|3*|401) return 0;; esac
    sleep 0.5
  done
  echo "[osbox] TIMEOUT waiting for $1 (last code $code)"; return 1
}
wait_http $KS/v3
export OS_CLIENT_CONFIG_FILE=$OSBOX_DIR/clouds.yaml OS_CLOUD=osbox
if [ ! -f "$STATE/catalog.done" ]; then
"$VENV/bin/python" - <<EOF
import openstack
c = openstack.connect()
idn = c.identity
svc_proj = c.identity.find_project("service", domain_id="default") or \
    c.identity.create_project(name="service", domain_id="default")
admin_role = idn.find_role("admin")
service_role = idn.find_role("service") or idn.create_role(name="service")
for u in ["placement", "nova", "neutron", "cinder", "glance"]:
    user = idn.find_user(u, domain_id="default") or idn.create_user(
        name=u, password="$PW", domain_id="default")
    for r in (admin_role, service_role):
        idn.assign_project_role_to_user(svc_proj, user, r)
eps = {
  ("placement", "placement"): "http://127.0.0.1:8778",
  ("nova", "compute"): "http://127.0.0.1:8774/v2.1",
  ("neutron", "network"): "http://127.0.0.1:9696",
  ("cinderv3", "volumev3"): "http://127.0.0.1:8776/v3",
  ("cinder", "block-storage"): "http://127.0.0.1:8776/v3",
  ("glance", "image"): "http://127.0.0.1:9292",
}
for (name, stype), url in eps.items():
    s = idn.find_service(name) or idn.create_service(name=name, type=stype)
    if not list(idn.endpoints(service_id=s.id)):
        for iface in ("public", "internal", "admin"):
            idn.create_endpoint(service_id=s.id, interface=iface, url=url, region_id="RegionOne")
print("catalog ok")
EOF
touch "$STATE/catalog.done"
fi
# non-API daemons only after keystone catalog & service users exist (they auth at startup)
start_svc nova-conductor nova-conductor --config-file "$ETC/nova/nova.conf" --log-file "$LOGS/nova-conductor.log"
start_svc nova-scheduler nova-scheduler --config-file "$ETC/nova/nova.conf" --log-file "$LOGS/nova-scheduler.log"
start_svc cinder-scheduler cinder-scheduler --config-file "$ETC/cinder/cinder.conf" --log-file "$LOGS/cinder-scheduler.log"
start_svc nova-compute nova-compute --config-file "$ETC/nova/nova.conf" --log-file "$LOGS/nova-compute.log"
start_svc cinder-volume cinder-volume --config-file "$ETC/cinder/cinder.conf" --log-file "$LOGS/cinder-volume.log"

# ---------------------------------------------------------------- wait for APIs
phase wait-apis
for u in http://127.0.0.1:8778 http://127.0.0.1:8774/ http://127.0.0.1:9696/ \
         http://127.0.0.1:8776/ http://127.0.0.1:9292/; do
  wait_http "$u" 180
done

# ---------------------------------------------------------------- compute/volume ready
phase compute-ready
SINCE=$(date -u +%Y-%m-%dT%H:%M:%S) "$VENV/bin/python" - <<'EOF'
# wait until *this* nova-compute / cinder-volume heartbeat (updated_at newer than
# this phase), and placement has the compute resource provider
import os, time, openstack
since = os.environ["SINCE"]
c = openstack.connect()
def fresh(svcs, binary):
    return any(s.binary == binary and s.state == "up" and (s.updated_at or "")[:19] >= since for s in svcs)
t = time.time()
ok_c = ok_v = False
while time.time() - t < 240 and not (ok_c and ok_v):
    ok_c = fresh(c.compute.services(), "nova-compute") and any(True for _ in c.placement.resource_providers())
    ok_v = fresh(c.block_storage.services(), "cinder-volume")
    if not (ok_c and ok_v):
        time.sleep(2)
print(f"[osbox] nova-compute heartbeat+RP: {ok_c}  cinder-volume heartbeat: {ok_v}")
EOF
nova-manage --config-file "$ETC/nova/nova.conf" cell_v2 discover_hosts >> "$LOGS/discover.log" 2>&1

phase govcloud
# govcloud's operator setup: external networks, flavors from the catalog, images
"$VENV/bin/python" "$HERE/bootstrap.py" "$HERE/../../catalog/services.yaml" > "$LOGS/bootstrap.log" 2>&1 \
  || { echo "[osbox] govcloud bootstrap FAILED, see $LOGS/bootstrap.log"; tail -5 "$LOGS/bootstrap.log"; exit 1; }

phase done
printf '[osbox] total          %6.1fs\n' "$(awk "BEGIN{print $(date +%s.%N) - $T0}")"
echo "[osbox] clouds.yaml: $OSBOX_DIR/clouds.yaml (clouds 'osbox', 'govcloud-admin'); logs: $LOGS"
echo "[osbox] export OS_CLIENT_CONFIG_FILE=$OSBOX_DIR/clouds.yaml OS_CLOUD=govcloud-admin"
