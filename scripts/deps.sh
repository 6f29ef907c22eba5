#!/usr/bin/env bash
# Installs what Tally needs to build, run and test, idempotently and quietly when nothing is missing.
# Usage: scripts/deps.sh [run|test]   (test also installs the end-to-end and browser-test tools)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-run}"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

# --- Debian/Ubuntu packages ---------------------------------------------------------------------------
pkgs=(curl pkg-config libssl-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev
      xvfb xauth fonts-noto-color-emoji)
if [ "$what" = test ]; then
  pkgs+=(chromium webkit2gtk-driver dbus dbus-x11 gnome-keyring dunst libsecret-tools imagemagick x11-utils xdotool
         python3-venv postgresql redis-server haproxy
         sudo   # the updater installs a .deb with `sudo dpkg -i` when no polkit agent is there (scripts/update-test.sh)
         locales)  # the language test builds a German locale into a temp dir with localedef (tests/e2e_language.rs)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    say "missing system packages: ${missing[*]} (no apt-get here: see README, 'Other platforms')"; exit 1
  fi
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  say "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  # Server packages (postgresql) would start their system service on install; the tests start their own
  # throwaway servers instead, so no service is started (Debian's policy-rc.d convention).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- npm packages for the UI (exactly the lock file) ---------------------------------------------------
if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  say "installing UI packages (npm ci)"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$what" = test ]; then
  # tauri-driver: the WebDriver bridge for the real app (from crates.io).
  if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    say "installing tauri-driver (cargo install, once)"
    cargo install tauri-driver --locked --quiet
  fi
  # cargo-deny for the supply-chain check (scripts/supply-chain.sh, deny.toml); 0.20.2 needs rustc >= 1.88.
  # Built once (a few minutes), at low priority.
  deny_min=0.20.2
  deny_have="$(cargo deny --version 2>/dev/null | awk '{print $2}')" || true
  if [ -z "$deny_have" ] || [ "$(printf '%s\n' "$deny_min" "$deny_have" | sort -V | head -n1)" != "$deny_min" ]; then
    say "installing cargo-deny $deny_min (cargo install, once)"
    nice -n 10 cargo install cargo-deny --version "$deny_min" --locked --quiet
  fi
  # The crates of every target (Windows, macOS, Android, iOS too), so that cargo-deny resolves the whole
  # graph offline; a build only downloads this machine's. Quick when nothing is missing.
  if ! cargo metadata --offline --locked --format-version 1 >/dev/null 2>&1; then
    say "fetching the crates of every target (cargo fetch)"
    cargo fetch --locked --quiet || say "cargo fetch failed (Cargo.lock out of date?): the supply-chain check will say what is missing"
  fi
  # Python client used by the protocol example test (a venv so the system Python stays untouched).
  if [ ! -x target/pyenv/bin/python ] || ! target/pyenv/bin/python -c 'import websockets, requests' 2>/dev/null; then
    say "installing the Python protocol-example deps into target/pyenv"
    mkdir -p target
    python3 -m venv target/pyenv
    target/pyenv/bin/pip install --quiet --disable-pip-version-check websockets requests
  fi
fi
