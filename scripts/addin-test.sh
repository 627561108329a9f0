#!/usr/bin/env bash
# Type-checks the Outlook add-in and runs its browser tests (addin/test/).
# Installs what is missing first, so that a fresh Debian machine or CI
# needs nothing done by hand: Chromium and xmllint from Debian, the npm
# packages from addin/test/package-lock.json (npm ci, when node_modules is
# absent or was installed from another lock file).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v xmllint >/dev/null 2>&1 || need_apt+=(libxml2-utils)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "addin-test: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

dir=addin/test
lock_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
stamp="$dir/node_modules/.webscheduler-lock"
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  echo "addin-test: npm ci in $dir" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" >"$stamp"
fi

# The browser tests start this backend in sandbox mode on a free port.
bin_dir=$(mktemp -d)
trap 'rm -rf "$bin_dir"' EXIT
go build -o "$bin_dir/webscheduler" ./backend/cmd/webscheduler

cd "$dir"
node_modules/.bin/tsc --noEmit -p tsconfig.json
WEBSCHEDULER_BIN="$bin_dir/webscheduler" node --test --test-concurrency=1 addin.test.js budget.test.js web.test.js
