#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server: Debian's postgresql binaries as a plain process (not
# the system service) in a temp dir on a free loopback port, with TALLY_TEST_PG pointing at its `postgres`
# database. The server is stopped and its directory deleted afterwards, however the command ends.
# Tests only: trust authentication on loopback and fsync off (speed; nothing here must survive a crash).
# Usage: scripts/with-postgres.sh <command> [args...]
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bindir/initdb" ] || { echo "PostgreSQL is not installed (scripts/deps.sh test installs it)" >&2; exit 1; }
dir=$(mktemp -d /tmp/tally-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as=()
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; as=(runuser -u postgres --); fi # postgres refuses root
stop() { "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap stop EXIT
"${as[@]}" "$bindir/initdb" -D "$dir/data" --auth=trust -U tally -E UTF8 >/dev/null
"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w start \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" >/dev/null
export TALLY_TEST_PG="postgres://tally@127.0.0.1:$port/postgres"
"$@"
