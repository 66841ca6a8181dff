#!/usr/bin/env bash
# Runs the product on this machine: installs what is missing, builds, starts the data
# centre (hub) on its embedded SQLite store with demo projects and the event simulator,
# and opens the counter app connected to it. Ctrl+C stops everything.
#   YIZHAN_DEMO_PROJECTS  projects to seed into a new store (default 5000)
#   YIZHAN_SIM_RATE       simulated department events per second (default 2)
#   YIZHAN_HUB_LISTEN     address the hub listens on (default 127.0.0.1:8640)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

echo "==> building the front end, the hub and the counter app"
(cd ui && npm run build)
cargo build --release -p yizhan-hub -p yizhan --features yizhan/custom-protocol
target_dir="${CARGO_TARGET_DIR:-target}/release"

listen="${YIZHAN_HUB_LISTEN:-127.0.0.1:8640}"
data="${YIZHAN_DEMO_DIR:-$HOME/.local/share/yizhan-demo}"
mkdir -p "$data"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# The demo's counter PC enrols itself at first start with a code its own hub makes, as the
# system administrator would hand one out; a PC already enrolled needs none.
if [ ! -f "$data/counter/replica.sqlite3" ]; then
  YIZHAN_ENROLMENT_CODE=$("$target_dir/yizhan-hub" device add --db "$data/hub.sqlite3" \
    --id "demo-counter-$(date +%s)" --name "演示窗口" --by "演示" | tail -n 1)
  export YIZHAN_ENROLMENT_CODE
fi

# HTTPS as in production: a CA of the demo's own (made once, kept with its data) and a
# certificate for this PC, which the app and the simulator trust alone.
tls="$data/tls"
if [ ! -f "$tls/hub.pem" ]; then
  mkdir -p "$tls"
  "$target_dir/yizhan-hub" ca init --dir "$tls/ca" --name "一站演示 CA" >/dev/null
  "$target_dir/yizhan-hub" ca issue --dir "$tls/ca" --name 127.0.0.1 --name localhost \
    --name "${listen%:*}" --cert "$tls/hub.pem" --key "$tls/hub.key" >/dev/null
fi
hub_url="https://$listen"

echo "==> hub on $hub_url (store: $data/hub.sqlite3)"
"$target_dir/yizhan-hub" serve --db "$data/hub.sqlite3" --listen "$listen" \
  --tls-cert "$tls/hub.pem" --tls-key "$tls/hub.key" \
  --demo "${YIZHAN_DEMO_PROJECTS:-5000}" --notify-log "$data/notifications.jsonl" &
pids+=($!)
for _ in $(seq 1 600); do
  curl -fsS --cacert "$tls/ca/ca.pem" "$hub_url/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS --cacert "$tls/ca/ca.pem" "$hub_url/v1/health" >/dev/null || { echo "the hub did not start" >&2; exit 1; }

echo "==> simulator: ${YIZHAN_SIM_RATE:-2} events/s"
"$target_dir/yizhan-hub" simulate --hub "$hub_url" --hub-ca "$tls/ca/ca.pem" --db "$data/hub.sqlite3" \
  --rate "${YIZHAN_SIM_RATE:-2}" &
pids+=($!)

export YIZHAN_HUB_URL="$hub_url"
export YIZHAN_HUB_CA="$tls/ca/ca.pem"
export YIZHAN_DATA_DIR="$data/counter"
export WEBKIT_DISABLE_DMABUF_RENDERER=1
echo "==> counter app (replica: $YIZHAN_DATA_DIR)"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  "$target_dir/yizhan"
else
  echo "    no display found: running under a virtual display (xvfb-run)"
  scripts/deps.sh --test >/dev/null
  # The app keeps its document-signing key in the Secret Service: an unlocked
  # gnome-keyring in the virtual session stands in for the clerk's desktop login. Its
  # keyring file lives with the demo's data, so the key survives a restart and no other
  # keyring on this machine (the tests', the user's own) is asked for its password.
  mkdir -p "$data/keyring"
  xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c \
    'echo -n yizhan-demo | XDG_DATA_HOME="$1" gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$0"' \
    "$target_dir/yizhan" "$data/keyring"
fi
