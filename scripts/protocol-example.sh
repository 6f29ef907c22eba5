#!/usr/bin/env bash
# Runs the Python example from docs/PROTOCOL.md against a fresh demo hub.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}/debug"
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$target/tally-hub" --demo --demo-bot-ms 0 --transfer-step-ms 50 --bind "127.0.0.1:$port" --metrics-bind 127.0.0.1:0 --data-dir "$dir" >"$dir/hub.log" 2>&1 &
hub=$!
trap 'kill $hub 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
TALLY_HUB="127.0.0.1:$port" timeout 60 target/pyenv/bin/python tests/python/demo_client.py
