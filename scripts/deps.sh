#!/usr/bin/env bash
# Installs what building, running and testing Yizhan needs on Debian/Ubuntu, skipping what
# is already there, so the same script serves a fresh machine, a developer and CI.
#   scripts/deps.sh          what the product needs (build + run the hub and the app)
#   scripts/deps.sh --test   plus what the test suites need (virtual display, WebDriver,
#                            PDF and QR readers for artefact checks)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

packages=(libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  libssl-dev build-essential pkg-config curl fonts-noto-cjk)
if [ "$want_test" = 1 ]; then
  packages+=(webkit2gtk-driver xvfb xauth dbus-x11 imagemagick poppler-utils zbar-tools
    cups cups-bsd printer-driver-cups-pdf gnome-keyring)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing system packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ first" >&2; exit 1; }

# npm ci only when the lock file changed since the last install, to keep re-runs quick.
stamp=ui/node_modules/.yizhan-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s ui/package-lock.json "$stamp"; then
  echo "==> installing front-end packages"
  (cd ui && npm ci --no-audit --no-fund)
  cp ui/package-lock.json "$stamp"
fi

if [ "$want_test" = 1 ] && ! command -v tauri-driver >/dev/null; then
  echo "==> installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked
fi
