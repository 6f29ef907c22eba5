#!/usr/bin/env bash
# Opens the Tally app (the debug build) signed in as a demo user of the hub at URL.
# Usage: scripts/open-app.sh http://127.0.0.1:8787
set -euo pipefail
cd "$(dirname "$0")/.."
url="$1"
target="${CARGO_TARGET_DIR:-target}/debug"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found, so the Tally window cannot open here." >&2
  echo "On a headless machine run it under a virtual display:  xvfb-run -a make run" >&2
  exit 1
fi
echo "Opening Tally on $url as ${TALLY_DEMO_USER:-alice} (password tally-demo)…"
export WEBKIT_DISABLE_DMABUF_RENDERER="${WEBKIT_DISABLE_DMABUF_RENDERER:-1}"
TALLY_AUTOLOGIN_SERVER="$url" TALLY_AUTOLOGIN_USER="${TALLY_DEMO_USER:-alice}" "$target/tally"
