#!/usr/bin/env bash
# Runs govulncheck (from go.mod's tool block) on every package, without
# vuln.go.dev: the vulnerability database comes from the Go module proxy as
# the module golang.org/x/vulndb, whose data/osv directory holds every Go
# advisory as an OSV file that `govulncheck -db file://` reads directly.
#
# The newest database the proxy has is used; when the proxy does not
# answer, the newest one in the module cache (with a warning saying how old
# it is); with neither, the check fails and says so. It never passes
# without a database.
#
# The scan runs under the toolchain go.mod names (GOTOOLCHAIN=auto, fetched
# from the proxy once), whose standard library carries the security fixes;
# a machine whose own Go is older is told to upgrade.
set -euo pipefail
cd "$(dirname "$0")/.."

modcache=$(go env GOMODCACHE)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Outside the module, so that fetching the database never touches go.mod.
if info=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json golang.org/x/vulndb@latest 2>&1); then
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$info")
else
  dir=$(ls -d "$modcache"/golang.org/x/vulndb@v* 2>/dev/null | sort | tail -n 1 || true)
  if [ -z "$dir" ]; then
    echo "vulncheck: FAILED: no vulnerability database: the Go module proxy did not serve golang.org/x/vulndb and none is cached:" >&2
    echo "$info" >&2
    exit 1
  fi
  echo "vulncheck: WARNING: the Go module proxy did not answer; using the cached database $(basename "$dir")" >&2
fi
db="$dir/data/osv"
if [ ! -d "$db" ] || [ -z "$(ls -A "$db")" ]; then
  echo "vulncheck: FAILED: $db holds no advisories" >&2
  exit 1
fi
echo "vulncheck: database ${dir##*@} ($(ls "$db" | wc -l) advisories)"

want=$(sed -n 's/^toolchain //p' go.mod)
have=$(go env GOVERSION)
if [ -n "$want" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1)" != "$want" ]; then
  echo "vulncheck: WARNING: this machine's Go is $have (GOTOOLCHAIN=$(go env GOTOOLCHAIN)); go.mod asks for $want," \
    "whose standard library has security fixes $have lacks. Binaries built here with $have are not what this check passes." >&2
fi
GOTOOLCHAIN=auto go tool govulncheck -db "file://$db" ./...
