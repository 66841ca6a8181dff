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

# The app is always built with the front end embedded (custom-protocol): the same build
# serves the unit tests and the WebDriver suite, so the workspace compiles once.
features=(--features yizhan/custom-protocol)

echo "==> Rust workspace tests"
cargo test --workspace "${features[@]}"
# Benchmarks are not run here (docs/perf.md), but they must keep compiling.
cargo build --workspace --all-targets "${features[@]}"

echo "==> desktop app end to end (WebDriver under Xvfb)"
cargo build -p yizhan -p yizhan-hub "${features[@]}"
export WEBKIT_DISABLE_DMABUF_RENDERER=1
# The app keeps its signing key in the Secret Service: a fresh gnome-keyring in the test's
# own session bus, unlocked, as a logged-in clerk's desktop has.
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c \
  'echo -n yizhan-e2e | gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
   exec cargo test -p yizhan-tests --features app-e2e --test app_e2e'
