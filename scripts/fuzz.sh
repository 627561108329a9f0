#!/usr/bin/env bash
# Runs every Fuzz* target in the module for the given time each; on a
# failure it prints the fuzzer's report (with the input it saved).
set -euo pipefail
fuzztime="${1:-10s}"
status=0
passed=0
failed=0
while read -r pkg dir; do
  for target in $(grep -hoE '^func Fuzz[A-Za-z0-9_]+' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz: $pkg $target ($fuzztime)"
    if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then
      passed=$((passed + 1))
    else
      echo "$out"
      failed=$((failed + 1))
      status=1
    fi
  done
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ./...)
echo "fuzz: $passed passed, $failed failed"
exit $status
