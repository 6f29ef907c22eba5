#!/usr/bin/env bash
# Runs a command inside a throw-away desktop session like the one a user has: an X display (Xvfb when
# there is none), a D-Bus session bus, an unlocked gnome-keyring Secret Service and a notification daemon
# (dunst). Tests use it so the keyring, notifications and the WebView are the real ones.
# Usage: scripts/desktop-session.sh CMD [ARGS...]
set -euo pipefail

if [ -z "${TALLY_IN_DBUS_SESSION:-}" ]; then
  export TALLY_IN_DBUS_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi

cleanup() { for p in ${pids:-}; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
pids=""

if [ -z "${DISPLAY:-}" ]; then
  for n in $(seq 90 140); do
    if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then break; fi
  done
  Xvfb ":$n" -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
  pids="$pids $!"
  export DISPLAY=":$n"
  for _ in $(seq 1 100); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.05; done
fi
export WEBKIT_DISABLE_DMABUF_RENDERER=1
# Services started by D-Bus activation need the display too; GTK need not go through desktop portals here
# and the accessibility bus is not needed for tests (both only add noise and start-up time).
dbus-update-activation-environment DISPLAY >/dev/null 2>&1 || true
export GTK_USE_PORTAL=0 NO_AT_BRIDGE=1

# Secret Service: an unlocked login keyring with a throw-away password.
export XDG_DATA_HOME="${XDG_DATA_HOME:-$(mktemp -d)}"
eval "$(printf 'tally-test\n' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true

# Notification daemon on the session bus, configured as a user has it: Debian's stock dunstrc (it parses
# markup in bodies and says so, so the app's escaping is what is tested), else dunst's built-in defaults.
if command -v dunst >/dev/null; then
  conf=/etc/xdg/dunst/dunstrc
  [ -f "$conf" ] || conf=/dev/null
  dunst -conf "$conf" >/dev/null 2>&1 &
  pids="$pids $!"
  for _ in $(seq 1 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
      string:org.freedesktop.Notifications 2>/dev/null | grep -q true && break
    sleep 0.05
  done
fi

"$@"
