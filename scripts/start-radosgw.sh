#!/usr/bin/env bash
# Start a throwaway single-node Ceph cluster with an S3 gateway for the storage-s3
# tests: one monitor, one OSD on the in-memory object store (memstore), no cephx
# auth, radosgw's beast frontend on 127.0.0.1:7480, and one S3 user with a fixed
# test key. Everything lives in $RADOSGW_DIR (default /tmp/cloudvolume-radosgw) and
# nothing survives a restart: memstore keeps objects in RAM.
#
# Writes .tmp/radosgw.env (endpoint and keys) for the tests. Idempotent: when the
# gateway already answers, it only rewrites that file. Installs the Debian packages
# (radosgw ceph-mon ceph-osd) when they are missing, so it needs root for that step.
#
#   scripts/start-radosgw.sh          start (or confirm running)
#   scripts/start-radosgw.sh stop     stop the daemons this script started
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${RADOSGW_DIR:-/tmp/cloudvolume-radosgw}"
HOST=127.0.0.1
PORT="${RADOSGW_PORT:-7480}"
MON_PORT="${RADOSGW_MON_PORT:-6789}"
ENDPOINT="http://$HOST:$PORT"
ENV_FILE="$ROOT/.tmp/radosgw.env"
# Fixed, test-only credentials for a gateway that listens on loopback and holds nothing.
ACCESS_KEY=cloudvolume-test-access
SECRET_KEY=cloudvolume-test-secret-0123456789
CONF="$DIR/ceph.conf"
CEPH=(ceph -c "$CONF" --connect-timeout 10)

FAILURE_FILE="$ROOT/.tmp/radosgw.failed"

log() { echo "radosgw: $*" >&2; }

# On any failure, leave an account for the S3 tests to print (CI shows failing tests
# first): the failing line and the tails of the daemons' logs.
on_failure() {
  local status=$? line=$1
  mkdir -p "$ROOT/.tmp"
  {
    echo "start-radosgw.sh failed (exit $status) at line $line: $BASH_COMMAND"
    for f in "$DIR"/log/*.log; do
      [[ -f $f ]] && { echo "--- $f"; tail -n 15 "$f"; }
    done
  } >"$FAILURE_FILE" 2>/dev/null || true
  cat "$FAILURE_FILE" >&2 || true
}

answers() { curl -s -o /dev/null --max-time 2 "$ENDPOINT/" 2>/dev/null; }

stop() {
  for name in rgw osd mon; do
    local pidfile="$DIR/run/$name.pid"
    if [[ -f $pidfile ]]; then
      local pid
      pid="$(cat "$pidfile")"
      # Only a process we started: the pid file is ours and the command line names our conf.
      if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$CONF"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
      fi
      rm -f "$pidfile"
    fi
  done
}

write_env() {
  mkdir -p "$ROOT/.tmp"
  cat >"$ENV_FILE" <<EOF
RADOSGW_ENDPOINT=$ENDPOINT
RADOSGW_ACCESS_KEY_ID=$ACCESS_KEY
RADOSGW_SECRET_ACCESS_KEY=$SECRET_KEY
EOF
}

if [[ "${1:-}" == "stop" ]]; then
  stop
  rm -f "$ENV_FILE"
  exit 0
fi

trap 'on_failure $LINENO' ERR
rm -f "$FAILURE_FILE"
start=$(date +%s%N)

if answers && [[ -f $DIR/run/rgw.pid ]] && kill -0 "$(cat "$DIR/run/rgw.pid")" 2>/dev/null; then
  write_env
  log "already running at $ENDPOINT"
  exit 0
fi

if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null || ! command -v curl >/dev/null; then
  log "installing radosgw ceph-mon ceph-osd from Debian"
  export DEBIAN_FRONTEND=noninteractive
  # A machine that has just booted may still hold dpkg's lock (unattended upgrades) and a
  # mirror may drop a request: wait for the lock and try the install three times.
  installed=false
  for attempt in 1 2 3; do
    if apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null &&
      apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends radosgw ceph-mon ceph-osd curl >/dev/null; then
      installed=true
      break
    fi
    log "install attempt $attempt failed; retrying"
    sleep $((attempt * 5))
  done
  $installed || log "could not install radosgw ceph-mon ceph-osd from Debian"
  $installed
fi

if answers; then
  log "something else already answers on $ENDPOINT; set RADOSGW_PORT"
  false
fi

# A fresh cluster every time: memstore's data died with the old OSD anyway.
stop
rm -f "$ENV_FILE"
rm -rf "$DIR"
mkdir -p "$DIR/mon.a" "$DIR/osd.0" "$DIR/run" "$DIR/log"
FSID="$(cat /proc/sys/kernel/random/uuid)"

cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = v1:$HOST:$MON_PORT
public network = $HOST/32
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
ms bind ipv6 = false
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
keyring = $DIR/keyring
# One OSD holds every replica: size 1, and CRUSH picks OSDs, not hosts.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
mon max pg per osd = 1000

[mon]
mon data = $DIR/mon.\$id

[osd]
osd data = $DIR/osd.\$id
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 460
osd max object namespace len = 64

[client.rgw]
rgw frontends = beast endpoint=$HOST:$PORT
rgw dns name = localhost
rgw enable usage log = false
EOF

ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$DIR/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v1:$HOST:$MON_PORT]" "$DIR/monmap" >/dev/null
ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" --keyring "$DIR/keyring" </dev/null >>"$DIR/log/mon-mkfs.log" 2>&1
# Daemons get no terminal: their stdio goes to the log directory, so nothing holds the
# caller's pipes open (a CI runner waiting for end-of-output would otherwise hang).
ceph-mon -c "$CONF" -i a --pid-file "$DIR/run/mon.pid" </dev/null >>"$DIR/log/mon-stdio.log" 2>&1

OSD_UUID="$(cat /proc/sys/kernel/random/uuid)"
OSD_ID="$("${CEPH[@]}" osd new "$OSD_UUID")"
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" </dev/null >>"$DIR/log/osd-mkfs.log" 2>&1
ceph-osd -c "$CONF" -i "$OSD_ID" --pid-file "$DIR/run/osd.pid" </dev/null >>"$DIR/log/osd-stdio.log" 2>&1

radosgw -c "$CONF" -n client.rgw --pid-file "$DIR/run/rgw.pid" </dev/null >>"$DIR/log/rgw-stdio.log" 2>&1

for _ in $(seq 1200); do
  answers && break
  sleep 0.1
done
if ! answers; then
  log "gateway did not answer on $ENDPOINT within 120 s; logs in $DIR/log"
  false
fi

radosgw-admin -c "$CONF" -n client.admin user create --uid=cloudvolume-test --display-name="cloudvolume test" \
  --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null

write_env
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
log "up at $ENDPOINT in $((elapsed / 1000)).$(printf %03d $((elapsed % 1000))) s"
