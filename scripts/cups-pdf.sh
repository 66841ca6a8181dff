#!/usr/bin/env bash
# Gives the print tests a printer that writes PDF files: starts the CUPS scheduler if it
# is not running (test machines and containers have no systemd to do it) and adds the
# cups-pdf queue Yizhan-PDF if it is missing. Quick and harmless when all is in place.
# Prints the folders cups-pdf writes into. Needs `scripts/deps.sh --test` first.
set -euo pipefail

queue=Yizhan-PDF
ppd=lsb/usr/cups-pdf/CUPS-PDF_opt.ppd
conf=/etc/cups/cups-pdf.conf

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

# cupsd, lpadmin and cupsenable live in sbin, which a user's PATH may lack.
PATH="$PATH:/usr/sbin:/sbin"
for tool in cupsd lpstat lpadmin cupsenable cupsaccept; do
  command -v "$tool" >/dev/null || {
    echo "$tool not found: install cups, cups-bsd and printer-driver-cups-pdf (scripts/deps.sh --test)" >&2
    exit 1
  }
done
[ -f "$conf" ] || { echo "$conf not found: install printer-driver-cups-pdf" >&2; exit 1; }

# lpstat's wording is parsed below, so it must not be translated.
export LC_ALL=C

running() { lpstat -r 2>/dev/null | grep -qx "scheduler is running"; }

if ! running; then
  echo "==> starting cupsd"
  # cupsd forks into the background and returns at once; it answers a moment later.
  "${sudo_cmd[@]}" cupsd
  for _ in $(seq 50); do
    running && break
    sleep 0.2
  done
  running || { echo "cupsd did not come up; see /var/log/cups/error_log" >&2; exit 1; }
fi

if ! lpstat -v "$queue" >/dev/null 2>&1; then
  echo "==> adding the cups-pdf queue $queue"
  # Its output is only shown on failure: on success lpadmin merely warns that PPD
  # drivers are deprecated, and cups-pdf has no other kind yet.
  if ! msg=$("${sudo_cmd[@]}" lpadmin -p "$queue" -E -v cups-pdf:/ -m "$ppd" 2>&1); then
    echo "could not add $queue: $msg" >&2
    exit 1
  fi
fi
# A backend failure stops the queue for good; a stale stop must not fail the next run.
"${sudo_cmd[@]}" cupsenable "$queue"
"${sudo_cmd[@]}" cupsaccept "$queue"

# Where a job's PDF lands: `Out` for a job owned by a known user (${HOME} and ${USER} are
# that user's), `AnonDirName` for one owned by an unknown user or nobody.
setting() { sed -n "s/^[[:space:]]*$1[[:space:]]\{1,\}//p" "$conf" | tail -n 1; }
out=$(setting Out)
anon=$(setting AnonDirName)
out=${out:-/var/spool/cups-pdf/\$\{USER\}}
out=${out//\$\{HOME\}/$HOME}
out=${out//\$\{USER\}/$(id -un)}
echo "$queue is ready; cups-pdf writes to $out (anonymous jobs: ${anon:-/var/spool/cups-pdf/ANONYMOUS})"
