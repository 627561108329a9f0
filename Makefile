# `make test` runs every check the project has; CI runs exactly that.
SHELL := /bin/bash
GO    ?= go
PKGS  := ./...
FUZZTIME ?= 10s

.PHONY: test vulncheck lint addin-test gotest bench-short fuzz-short fuzz build run bench

# addin-test comes before gotest: it installs the npm packages that the
# Go type-check test of the add-in needs.
test: lint addin-test gotest bench-short fuzz-short vulncheck

build:
	$(GO) build -o bin/webscheduler ./backend/cmd/webscheduler

run:
	$(GO) run ./backend/cmd/webscheduler

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

addin-test:
	scripts/addin-test.sh

gotest:
	eval "$$(scripts/test-deps.sh)" && eval "$$(scripts/test-postgres.sh)" && $(GO) test -race -count=1 $(PKGS)

# Benchmarks with tiny counts, to keep them working: the Go benchmarks run
# once here; bench/load and the bulk-refresh benchmark run small in gotest.
bench-short:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./backend/joininfo/

# Every benchmark at full size (under 10 minutes); rewrites BENCHMARKS.md.
bench:
	bench/bench.sh

# Each fuzz target for a bounded time; `make fuzz FUZZTIME=5m` for longer.
fuzz-short:
	@scripts/fuzz.sh $(FUZZTIME)

fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

# govulncheck on every package, with the advisories from the Go module proxy
# (golang.org/x/vulndb): no vuln.go.dev needed; fails when neither the proxy
# nor the module cache has the database.
vulncheck:
	scripts/vulncheck.sh
