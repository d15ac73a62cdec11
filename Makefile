# Peerdesk developer entry points. `make test` is exactly what CI runs
# (.ci/run); `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
# The steps of `test` depend on running in order.
.NOTPARALLEL:
export PATH := $(PATH):/usr/local/go/bin

GO            ?= go
# Extra arguments for run/daemon/bench, e.g. make daemon ARGS='--name desk1'.
ARGS          ?=
# Per-target fuzz time: FUZZTIME for `make fuzz`, TEST_FUZZTIME inside `make test`.
FUZZTIME      ?= 1m
TEST_FUZZTIME ?= 10s
TEST_TIMEOUT  ?= 20m
TESTLOG       := .cache/gotest.log
# Tags of the desktop app (scripts/dist.sh and test/netns use the same):
# no_emoji drops Fyne's bundled emoji font, ~15 MB of memory at start.
GUI_TAGS      ?= no_emoji

.PHONY: help all deps deps-fresh run daemon build build-gui build-nogui fmt-check vet unit \
	fuzz fuzz-short smoke bench discoverybench transfersbench multisourcebench test clean dist dist-deps dist-check tidy-check

help:
	@echo "make run        the desktop app (needs a display; installs build deps)"
	@echo "make daemon     the headless peer: go run -tags nogui . daemon \$$ARGS"
	@echo "make build      bin/peerdesk (GUI, cgo) and bin/peerdesk-nogui (CGO_ENABLED=0)"
	@echo "make test       deps, gofmt, vet, both builds, go test ./..., release artifact checks, short fuzz, bench smoke (= CI)"
	@echo "make fuzz       every fuzz target for FUZZTIME (default $(FUZZTIME))"
	@echo "make bench      the full transfer benchmark (bench/streambench)"
	@echo "make linkbench  bulk transfer vs TLS/TCP on a shaped 1 Gbit/s netns link (root)"
	@echo "make discoverybench  PEERS peers (default 50) started together: time until all see all, RSS (root)"
	@echo "make transfersbench  TRANSFERS gets (default 20) of MIB MiB at once between two daemons: peak RSS each side (root)"
	@echo "make multisourcebench  get from two 500 Mbit/s sources into a 1 Gbit/s receiver against one source (root)"
	@echo "make deps       install system packages (scripts/deps.sh)"
	@echo "make deps-fresh also upgrade the printing packages the tests use, print their versions"
	@echo "make dist       every release artifact into dist/ (.deb, tar.xz, Windows exe + installer)"

all: build

deps:
	@bash scripts/deps.sh

# deps, plus the printing packages upgraded to what a fresh machine gets
# today, and the versions the tests run against printed (make test, CI).
deps-fresh:
	@bash scripts/deps.sh --fresh
	@echo "versions: $$($(GO) version | cut -d' ' -f3-), kernel $$(uname -r)"

run: deps
	@if [ -z "$${DISPLAY:-}" ] && [ -z "$${WAYLAND_DISPLAY:-}" ]; then \
		echo "make run: no display (DISPLAY and WAYLAND_DISPLAY unset)." >&2; \
		echo "  Use 'make daemon' for the headless peer, or 'xvfb-run make run' for a virtual display." >&2; \
		exit 1; \
	fi
	$(GO) run -tags '$(GUI_TAGS)' . $(ARGS)

daemon:
	CGO_ENABLED=0 $(GO) run -tags nogui . daemon $(ARGS)

build: build-gui build-nogui

build-gui: deps
	$(GO) build -tags '$(GUI_TAGS)' -o bin/peerdesk .

build-nogui:
	CGO_ENABLED=0 $(GO) build -tags nogui -o bin/peerdesk-nogui .

fmt-check:
	@files=$$(gofmt -l . | grep -vE '^(\.cache|bin|dist|vendor)/' || true); \
	if [ -n "$$files" ]; then \
		echo "gofmt: these files need 'gofmt -w':" >&2; echo "$$files" >&2; exit 1; \
	fi; \
	echo "gofmt: ok"

# go mod tidy must leave go.mod as committed: direct dependencies are not
# marked // indirect, and nothing unused stays.
tidy-check:
	@t=$$(mktemp -d); cp go.mod go.sum "$$t/"; \
	$(GO) mod tidy; \
	if ! cmp -s go.mod "$$t/go.mod"; then \
		diff -u "$$t/go.mod" go.mod >&2 || true; cp "$$t/go.mod" "$$t/go.sum" .; rm -rf "$$t"; \
		echo "go mod tidy changes go.mod: run it and commit the result" >&2; exit 1; \
	fi; \
	cp "$$t/go.sum" go.sum; rm -rf "$$t"; echo "go mod tidy: ok"

vet:
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet -tags nogui $$(CGO_ENABLED=0 $(GO) list -e -tags nogui ./... 2>/dev/null | grep -v '/app$$')

# go test's own lines are shown as they come; the log feeds the summary.
unit:
	@mkdir -p $(dir $(TESTLOG))
	PEERDESK_DIST_TEST=0 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./... 2>&1 | tee $(TESTLOG)

# The artifact checks of test/dist build every release artifact with
# scripts/dist.sh (minutes of cgo compiling): a step of their own, so that
# load does not overlap the timing-sensitive network tests of `unit`.
dist-check:
	@mkdir -p $(dir $(TESTLOG))
	PEERDESK_DIST_TEST=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -v ./test/dist 2>&1 | tee -a $(TESTLOG)

fuzz-short:
	@bash scripts/fuzz.sh $(TEST_FUZZTIME)

fuzz:
	@bash scripts/fuzz.sh $(FUZZTIME)

smoke:
	@if compgen -G 'bench/streambench/*.go' >/dev/null; then \
		$(GO) run ./bench/streambench -mib 64 -runs 1; \
	else \
		echo "smoke: no bench/streambench yet, skipped"; \
	fi
	@# The shaped-link benchmark needs root, ip, tc and nft: under CI it
	@# must run (and fails loudly if it cannot); elsewhere only as root.
	@if [ "$${CI:-}" = true ] || [ "$$(id -u)" = 0 ]; then \
		$(GO) run ./bench/linkbench -short && \
		$(MAKE) --no-print-directory multisourcebench MULTI_MIB=128 MULTI_RUNS=1; \
	else \
		echo "smoke: bench/linkbench needs root, skipped (CI runs it)"; \
	fi

bench:
	$(GO) run ./bench/streambench $(ARGS)

# The shaped 1 Gbit/s link benchmark (root): make linkbench ARGS='-mib 512'
linkbench:
	$(GO) run ./bench/linkbench $(ARGS)

# Peers started together on one netns bed until all see each other (root):
# make discoverybench PEERS=50 (docs/performance.md).
PEERS ?= 50
discoverybench:
	PEERDESK_SCALE_PEERS=$(PEERS) $(GO) test -run '^$$' -bench DiscoveryScale -benchtime 1x -timeout 30m ./test/integration/

# Concurrent gets between two daemons, each side's peak RSS (root):
# make transfersbench TRANSFERS=20 MIB=64 (docs/performance.md).
TRANSFERS ?= 20
MIB ?= 64
transfersbench:
	PEERDESK_TRANSFERS=$(TRANSFERS) PEERDESK_TRANSFERS_MIB=$(MIB) $(GO) test -run '^$$' -bench ConcurrentTransfers -benchtime 1x -timeout 30m -v ./test/integration/

# make multisourcebench MULTI_MIB=512 MULTI_RUNS=2 (docs/performance.md).
MULTI_MIB ?= 512
MULTI_RUNS ?= 2
multisourcebench:
	PEERDESK_MULTI_MIB=$(MULTI_MIB) PEERDESK_MULTI_RUNS=$(MULTI_RUNS) $(GO) test -run '^$$' -bench MultiSource -benchtime 1x -timeout 30m -v ./test/integration/

test: deps-fresh dist-deps fmt-check tidy-check vet build unit dist-check fuzz-short smoke
	@pass=$$(grep -cE '^ok[[:space:]]' $(TESTLOG) || true); \
	fail=$$(grep -cE '^FAIL[[:space:]]' $(TESTLOG) || true); \
	echo "packages: $$pass passed, $$fail failed"

# Release artifacts; packaging/README.md. Extra flags via ARGS, e.g.
# make dist ARGS='--targets linux'.
dist: dist-deps
	bash scripts/dist.sh $(ARGS)

dist-deps:
	@bash scripts/dist-deps.sh

clean:
	rm -rf bin .cache dist
