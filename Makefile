# `make test` runs every check the project has; CI runs exactly that.
SHELL := /bin/bash
GO    ?= go
PKGS  := ./...
FUZZTIME ?= 10s

.PHONY: test lint addin-test gotest fuzz-short fuzz build run

# addin-test comes before gotest: it installs the npm packages that the
# Go type-check test of the add-in needs.
test: lint addin-test gotest fuzz-short

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
	eval "$$(scripts/test-deps.sh)" && $(GO) test -race -count=1 $(PKGS)

# Each fuzz target for a bounded time; `make fuzz FUZZTIME=5m` for longer.
fuzz-short:
	@scripts/fuzz.sh $(FUZZTIME)

fuzz:
	@scripts/fuzz.sh $(FUZZTIME)
