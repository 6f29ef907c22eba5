#!/usr/bin/env bash
# `make run`: start a demo hub (alice, bob, carol + a bot) and open the app signed in as alice.
set -euo pipefail
cd "$(dirname "$0")/.."
addr="${1:-127.0.0.1:8787}"
data="${2:-$HOME/.local/share/tally-demo-hub}"
target="${CARGO_TARGET_DIR:-target}/debug"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found, so the Tally window cannot open here." >&2
  echo "On a headless machine run it under a virtual display:  xvfb-run -a make run" >&2
  exit 1
fi

# The hub refuses a data directory (or a secret file in it) that others can read; a demo directory made
# by an earlier version of this script was 0755, so it is put right here.
mkdir -p -m 700 "$data"
chmod 700 "$data"
find "$data" -maxdepth 1 -type f \( -name 'hub.db*' -o -name '*.secret' -o -name '*.token' \) -exec chmod 600 {} +
"$target/tally-hub" --demo --bind "$addr" --data-dir "$data" --console-dir ui/dist-console --demo-bot-ms "${TALLY_DEMO_BOT_MS:-8000}" &
hub=$!
trap 'kill $hub 2>/dev/null || true; wait $hub 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://$addr/readyz" >/dev/null 2>&1 && break
  kill -0 $hub 2>/dev/null || { echo "the hub failed to start (is $addr in use?)" >&2; exit 1; }
  sleep 0.1
done
echo "Demo hub on http://$addr — users alice, bob, carol (password tally-demo); operators' console at http://$addr/console/."
scripts/open-app.sh "http://$addr"
