#!/usr/bin/env bash
# `make bench`: every benchmark at full size, then the tables of
# BENCHMARKS.md rewritten between their markers (bench/README.md). Takes
# about two minutes on 2 cores; everything runs on loopback and stops by
# itself. BENCH_OUT keeps the raw results (default: a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/test-deps.sh)"
out="${BENCH_OUT:-}"
if [ -z "$out" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
start=$SECONDS

echo "bench: request path (bench/load)" >&2
go run ./bench/load -md "$out/request-path.md" -json "$out/request-path.json"

echo "bench: bulk refresh (TestBulkRefreshBench)" >&2
go test -count=1 -timeout 15m -run '^TestBulkRefreshBench$' ./backend/cmd/webscheduler \
  -args -refresh.mailboxes=500 -refresh.meetings=20 -refresh.latency=20ms -refresh.out="$out/refresh.md"

echo "bench: add-in (scripts/addin-test.sh)" >&2
# The browser tests print the asset size and first-paint times; a failed
# test is reported in the table rather than stopping the other numbers.
scripts/addin-test.sh >"$out/addin.log" 2>&1 || echo "bench: the add-in tests failed; see $out/addin.log" >&2
grep -E "task-pane assets|first contentful paint" "$out/addin.log" >&2 || true

go run ./bench/report -file BENCHMARKS.md -machine \
  -section request-path="$out/request-path.md" -section refresh="$out/refresh.md" -addin-log "$out/addin.log"
echo "bench: BENCHMARKS.md rewritten after $((SECONDS - start)) s" >&2
