#!/usr/bin/env bash
# Builds the .deb (debug profile and `make test`'s cargo arguments, to share its build), installs it with
# apt/dpkg, starts the installed binary in the current X display and checks that its "Tally" window
# appears; then the signed-update test (scripts/update-test.sh) on the installed app. Uninstalls afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
# A development update key for this run (kept in target/, never in the repository): the build trusts its
# public half, and scripts/update-test.sh signs a newer package with it.
key="${CARGO_TARGET_DIR:-target}/update-key/tally.key"
if [ ! -f "$key" ]; then
  mkdir -p "$(dirname "$key")"
  ui/node_modules/.bin/tauri signer generate --ci -p "" -w "$key" -f >/dev/null
fi
TALLY_UPDATE_PUBKEY="$(cat "$key.pub")"
export TALLY_UPDATE_PUBKEY
# The cargo arguments after `--` are `make test`'s (every package and target, one feature set), so the
# bundle's binary reuses that build: the app's crate alone is compiled again (with the key), not its
# ~180 dependencies under another feature set (6-7 minutes here).
ui/node_modules/.bin/tauri build --debug --bundles deb -- --workspace --all-targets --features tally/custom-protocol \
  >/tmp/tally-deb-build.log 2>&1 || { tail -40 /tmp/tally-deb-build.log; exit 1; }
deb="$(ls -t "${CARGO_TARGET_DIR:-target}"/debug/bundle/deb/*.deb | head -1)"
echo "built $deb"
dpkg-deb --info "$deb" | grep -E "Package|Version|Depends" || true
dpkg-deb --contents "$deb" | grep -E "usr/bin/|\.desktop|icons/hicolor/128" || { echo "missing binary, desktop entry or icon" >&2; exit 1; }
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(realpath "$deb")" >/dev/null
trap 'pkill -x tally 2>/dev/null || true; DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq tally >/dev/null 2>&1 || true' EXIT
test -x /usr/bin/tally
test -f /usr/share/applications/Tally.desktop || ls /usr/share/applications | grep -i tally
data="$(mktemp -d)"
TALLY_DATA_DIR="$data" TALLY_KEYRING_SERVICE="app.tally.deb-test" /usr/bin/tally >"$data/app.log" 2>&1 &
found=""
for _ in $(seq 1 150); do
  if xdotool search --onlyvisible --name '^Tally$' >/dev/null 2>&1; then found=1; break; fi
  sleep 0.2
done
mkdir -p target/e2e-screenshots
sleep 3
import -window root target/e2e-screenshots/deb-installed.png 2>/dev/null || true
if [ -z "$found" ]; then echo "the installed app showed no Tally window" >&2; cat "$data/app.log" >&2; echo "0 passed, 1 failed"; exit 1; fi
echo "installed package starts and shows its window"
pkill -x tally 2>/dev/null || true
scripts/update-test.sh "$(realpath "$deb")" "$key"
echo "2 passed, 0 failed"
