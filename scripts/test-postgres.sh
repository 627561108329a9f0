#!/usr/bin/env bash
# Installs and starts what the QoE tests need when it is missing: a
# PostgreSQL that answers, and sipp (Debian package sip-tester). Prints the
# environment the tests should use, for `eval`, as scripts/test-deps.sh does.
#
# Order: $WEBSCHEDULER_TEST_POSTGRES_URL if it answers; else the default
# server on 127.0.0.1:5432 with database "test"; else a private cluster
# (trust auth, loopback only) on port 5433 in a temporary directory.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

need_apt=()
have sipp || need_apt+=(sip-tester)
[ -n "$(pg_bindir)" ] || need_apt+=(postgresql)
have psql || need_apt+=(postgresql-client)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "test-postgres: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  # The package starts no cluster we rely on; ours is started below.
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

answers() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }
emit() { echo "export WEBSCHEDULER_TEST_POSTGRES_URL='$1'"; exit 0; }

if [ -n "${WEBSCHEDULER_TEST_POSTGRES_URL:-}" ] && answers "$WEBSCHEDULER_TEST_POSTGRES_URL"; then
  emit "$WEBSCHEDULER_TEST_POSTGRES_URL"
fi
default_url="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
answers "$default_url" && emit "$default_url"
if answers "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"; then
  psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -qc 'CREATE DATABASE test' >&2 2>/dev/null || true
  answers "$default_url" && emit "$default_url"
fi

# A cluster of our own: never the machine's, never beyond loopback.
port="${WEBSCHEDULER_TEST_POSTGRES_PORT:-5433}"
dir="${TMPDIR:-/tmp}/webscheduler-test-postgres"
url="postgres://postgres@127.0.0.1:$port/test?sslmode=disable"
answers "$url" && emit "$url"

bindir="$(pg_bindir)"
as_owner=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: use the package's postgres user.
  as_owner=(runuser -u postgres --)
fi
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres: "$dir"
chmod 700 "$dir"
if [ ! -f "$dir/PG_VERSION" ]; then
  "${as_owner[@]}" "$bindir/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >&2
fi
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >&2
psql "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" -qc 'CREATE DATABASE test' >&2 2>/dev/null || true
answers "$url" || { echo "test-postgres: PostgreSQL did not start; see $dir/server.log" >&2; exit 1; }
emit "$url"
