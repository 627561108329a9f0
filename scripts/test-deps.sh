#!/usr/bin/env bash
# Installs and starts what `make test` needs when it is missing, so a fresh
# Debian machine (or CI on a clean clone) needs nothing done by hand.
# Prints the environment the tests should use, for `eval`.
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
have redis-server || need_apt+=(redis-server)
have xmllint || need_apt+=(libxml2-utils)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "test-deps: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

# A Redis of our own on a fixed private port: tests never depend on (or
# disturb) whatever Redis the machine runs for other purposes.
redis_port="${WEBSCHEDULER_TEST_REDIS_PORT:-6399}"
if [ -z "${WEBSCHEDULER_TEST_REDIS_URL:-}" ]; then
  if ! redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
    dir="${TMPDIR:-/tmp}/webscheduler-test-redis"
    mkdir -p "$dir"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
      --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" >&2
    for _ in $(seq 1 50); do
      redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null || { echo "test-deps: redis did not start" >&2; exit 1; }
  fi
  echo "export WEBSCHEDULER_TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0"
fi
