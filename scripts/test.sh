#!/usr/bin/env bash
# Runs every test suite of Yizhan: the front end's unit tests and type check, the Rust
# workspace (unit tests, hub + replica suites across processes, crash tests), then the
# built desktop app end to end under a virtual display through WebDriver.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
scripts/postgres.sh
scripts/cups-pdf.sh

echo "==> front end: type check, unit tests, production build"
(cd ui && npm run typecheck && npm test && npm run build)

# One feature set for every cargo call, so the workspace compiles once: the app with the
# front end embedded (custom-protocol), and the WebDriver suite and its benchmark
# (yizhan-tests/app-e2e). A call that resolved features differently (`-p yizhan-tests
# --features app-e2e`) would rebuild most of the dependency tree.
features=(--features yizhan/custom-protocol,yizhan-tests/app-e2e)

echo "==> Rust workspace: every target (benchmarks are not run here, docs/perf.md, but must compile)"
cargo build --workspace --all-targets "${features[@]}"

echo "==> Rust workspace tests, the desktop app end to end among them (WebDriver under Xvfb)"
export WEBKIT_DISABLE_DMABUF_RENDERER=1
# The app keeps its signing key in the Secret Service: a fresh gnome-keyring in the test's
# own session bus, unlocked, as a logged-in clerk's desktop has. Its keyring file is the
# run's own, so no keyring left by the demo or the user is asked for its password.
keyring_home="$(mktemp -d)"
trap 'rm -rf "$keyring_home"' EXIT
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c \
  'echo -n yizhan-e2e | XDG_DATA_HOME="$0" gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
   exec cargo test --workspace "$@"' "$keyring_home" "${features[@]}"
