#!/usr/bin/env bash
# Signed updates end to end on the installed app (called by scripts/deb-test.sh, after it built the .deb
# with the development update key of this run and installed it): makes a newer package (the same build,
# repackaged with a higher version), signs it with the key, signs another file for the tampered case, and
# runs tests/e2e_update.rs against the installed /usr/bin/tally.
# Usage: scripts/update-test.sh DEB KEYFILE
set -euo pipefail
cd "$(dirname "$0")/.."
deb="$1"; key="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
old="$(dpkg-deb -f "$deb" Version)"
new="${old%.*}.$(( ${old##*.} + 1 ))"
dpkg-deb -R "$deb" "$work/pkg"
sed -i "s/^Version: .*/Version: $new/" "$work/pkg/DEBIAN/control"
dpkg-deb -b "$work/pkg" "$work/new.deb" >/dev/null
rm -rf "$work/pkg"
sign() { ui/node_modules/.bin/tauri signer sign -f "$key" -p "" --app-version "$new" "$1" >/dev/null; }
sign "$work/new.deb"
cp "$deb" "$work/other.deb"
sign "$work/other.deb"
mv "$work/other.deb.sig" "$work/other.sig"
echo "$new" >"$work/version"
echo "update test: $old installed, $new offered (signed with the run's development key)"
# The test executable `make test` built (the app under test is the installed one): without the update key in
# the environment, so that the test build's own copy of the app is not compiled again with it.
TALLY_UPDATE_TEST="$work" TALLY_REQUIRE_DESKTOP=1 env -u TALLY_UPDATE_PUBKEY scripts/run-built-tests.py tally e2e_update
