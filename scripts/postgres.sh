#!/usr/bin/env bash
# A PostgreSQL the planning change-capture suite can replicate from: installed and started
# when missing, and with wal_level = logical (which takes a restart the first time).
set -euo pipefail

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

installed=0
if ! command -v pg_ctlcluster >/dev/null; then
  echo "==> installing PostgreSQL"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends postgresql
  installed=1
fi

version=$(ls /etc/postgresql | sort -V | tail -1)
if [ "$installed" = 1 ]; then
  # A cluster made here only for the tests: let them in over loopback without a password,
  # as the machines this project runs its suites on are set up.
  hba=/etc/postgresql/$version/main/pg_hba.conf
  "${sudo_cmd[@]}" sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  "${sudo_cmd[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
fi
psql_as_postgres() { "${sudo_cmd[@]}" runuser -u postgres -- psql -X -tAq "$@"; }

if ! "${sudo_cmd[@]}" runuser -u postgres -- pg_isready -q; then
  echo "==> starting PostgreSQL $version"
  "${sudo_cmd[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
if [ "$(psql_as_postgres -c 'show wal_level')" != logical ]; then
  echo "==> PostgreSQL: wal_level = logical (restart)"
  psql_as_postgres -c "ALTER SYSTEM SET wal_level = logical"
  "${sudo_cmd[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" main restart
fi
# The suites connect as postgres over 127.0.0.1 without a password, as this machine's
# cluster allows; a cluster that asks for one is named here rather than failing later.
if ! psql -X -h 127.0.0.1 -U postgres -tAc "select 1" >/dev/null 2>&1; then
  echo "PostgreSQL on 127.0.0.1:5432 refuses user postgres without a password: allow trust for 127.0.0.1 in pg_hba.conf for the tests" >&2
  exit 1
fi
