#!/usr/bin/env bash
# `make cluster`: the distributed deployment on one machine — PostgreSQL (the truth), Redis (the bus
# between hubs), three tally-hub processes and HAProxy in front of them on one address. Every server is
# Debian's package run as a plain process of this user (postgres's own user when run as root) in DATA,
# on loopback ports; none of the system services is used. Ctrl-C (or the end of CMD) stops everything;
# the data stays in DATA for the next start.
# Usage: scripts/cluster.sh [FRONT_ADDR] [DATA] [-- CMD...]
#   CMD runs with TALLY_CLUSTER_URL (HAProxy), TALLY_CLUSTER_HUBS (each hub's URL), TALLY_CLUSTER_HUB_PIDS,
#   TALLY_CLUSTER_PIDS (Redis, HAProxy, the PostgreSQL postmaster) and TALLY_CLUSTER_DATA set.
#   TALLY_HUB_BIN picks the hub binary (default: the debug build); TALLY_CLUSTER_EPHEMERAL=1 deletes DATA
#   (and PostgreSQL's directory) when the cluster stops.
set -euo pipefail
cd "$(dirname "$0")/.."
front="${1:-127.0.0.1:8790}"; shift || true
data="${1:-$HOME/.local/share/tally-cluster}"; shift || true
[ "${1:-}" = "--" ] && shift
hub_bin="${TALLY_HUB_BIN:-${CARGO_TARGET_DIR:-target}/debug/tally-hub}"
say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
for b in "$pgbin/initdb" redis-server haproxy "$hub_bin"; do
  command -v "$b" >/dev/null || [ -x "$b" ] || { echo "missing $b (run: scripts/deps.sh test && cargo build)" >&2; exit 1; }
done
mkdir -p "$data"
# Every socket is a descriptor in a hub and two in HAProxy: as many as this user may have.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
as=()
pgroot="$data/pg"
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: it runs as its own user, in a directory that user can reach.
  as=(runuser -u postgres --)
  pgroot="${TALLY_CLUSTER_PGROOT:-/var/tmp/tally-cluster-pg-$(printf %s "$data" | md5sum | cut -c1-12)}"
fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -d "$pgroot/data" ] && "${as[@]}" "$pgbin/pg_ctl" -D "$pgroot/data" -m fast stop >/dev/null 2>&1 || true
  if [ "${TALLY_CLUSTER_EPHEMERAL:-0}" = 1 ]; then rm -rf "$pgroot" "$data"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PostgreSQL: a password of its own (scram), kept beside its data.
pgport=$(free_port)
mkdir -p "$pgroot"; [ ${#as[@]} -gt 0 ] && chown postgres "$pgroot"
if [ ! -d "$pgroot/data" ]; then
  "${as[@]}" sh -c "head -c 18 /dev/urandom | base64 | tr -d '/+=' > '$pgroot/password'"
  "${as[@]}" "$pgbin/initdb" -D "$pgroot/data" -U tally --pwfile="$pgroot/password" --auth=scram-sha-256 -E UTF8 >/dev/null
fi
"${as[@]}" "$pgbin/pg_ctl" -D "$pgroot/data" -l "$pgroot/log" -w start \
  -o "-p $pgport -k $pgroot -c listen_addresses=127.0.0.1" >/dev/null
store="postgres://tally:$(cat "$pgroot/password")@127.0.0.1:$pgport/postgres"
say "PostgreSQL on 127.0.0.1:$pgport"

redisport=$(free_port)
mkdir -p "$data/redis"
redis-server --port "$redisport" --bind 127.0.0.1 --save "" --appendonly no --dir "$data/redis" >"$data/redis.log" 2>&1 &
pids+=($!)
say "Redis on 127.0.0.1:$redisport"

# Three hubs on one database and one bus; one JWT secret so a token from any hub works on all of them.
# The hubs refuse a secret file that others can read.
[ -f "$data/jwt.secret" ] || (umask 077; head -c 48 /dev/urandom | base64 > "$data/jwt.secret")
chmod 600 "$data/jwt.secret"
backends=""
hub_urls=""
hub_pids=""
for i in 1 2 3; do
  port=$(free_port)
  mport=$(free_port)
  # Hub 1 seeds the demo users (once; the others find them) and runs the demo bot.
  demo=(--demo --demo-bot-ms 0); [ "$i" = 1 ] && demo=(--demo --demo-bot-ms "${TALLY_DEMO_BOT_MS:-8000}")
  TALLY_STORE="$store" TALLY_BROKER="redis://127.0.0.1:$redisport" "$hub_bin" --bind "127.0.0.1:$port" \
    --metrics-bind "127.0.0.1:$mport" --trusted-proxy 127.0.0.1/32 --data-dir "$data/hub-$i" --blob-dir "$data/blobs" --jwt-secret-file "$data/jwt.secret" "${demo[@]}" >"$data/hub-$i.log" 2>&1 &
  pids+=($!)
  hub_pids+="$! "
  hub_urls+="http://127.0.0.1:$port "
  for _ in $(seq 1 200); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "hub $i did not start: see $data/hub-$i.log" >&2; exit 1; }
  backends+="  server hub$i 127.0.0.1:$port check
"
  say "hub $i on 127.0.0.1:$port (metrics on 127.0.0.1:$mport)"
done

# HAProxy: WebSockets stay open (tunnel timeout), a hub that fails its readiness check gets no new ones,
# and a connection a dead hub refuses is tried again on another at once (redispatch on every retry),
# before the health check has noticed.
# Each proxied socket costs HAProxy two descriptors: as many as this user's limit allows.
maxconn=$(( ($(ulimit -n) - 100) / 2 ))
cat > "$data/haproxy.cfg" <<CFG
global
  maxconn $maxconn
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  option http-server-close
  # The hubs believe X-Forwarded-For from this proxy only (--trusted-proxy): sign-in throttles and
  # device sessions see the client's address, not HAProxy's.
  option forwardfor
  retries 2
  option redispatch 1
frontend tally
  bind $front
  default_backend hubs
backend hubs
  balance leastconn
  option httpchk GET /readyz
  default-server inter 1s fall 2 rise 1
$backends
CFG
haproxy -f "$data/haproxy.cfg" -db >"$data/haproxy.log" 2>&1 &
pids+=($!)
haproxy_pid=$!
for _ in $(seq 1 100); do curl -fsS "http://$front/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://$front/readyz" >/dev/null || { echo "HAProxy did not start: see $data/haproxy.log" >&2; exit 1; }
echo "Tally cluster on http://$front  (3 hubs, PostgreSQL, Redis; logs and data in $data)"
echo "Demo users alice, bob, carol — password tally-demo. Admin token: $data/hub-1/admin.token"
if [ $# -gt 0 ]; then
  redis_pid=${pids[0]}
  postmaster_pid=$(head -1 "$pgroot/data/postmaster.pid")
  TALLY_CLUSTER_URL="http://$front" TALLY_CLUSTER_HUBS="$hub_urls" TALLY_CLUSTER_HUB_PIDS="$hub_pids" \
    TALLY_CLUSTER_PIDS="$redis_pid $haproxy_pid $postmaster_pid" TALLY_CLUSTER_DATA="$data" "$@"
else
  echo "Point the app at http://$front. Ctrl-C stops the cluster."
  wait
fi
