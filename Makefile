# Stratus — see README.md.
GO      ?= go
BIN     ?= bin/stratus

# Tools the tests drive, and the Debian packages that provide them.
# README.md lists them too; test/policy checks that both lists match the
# tools the tests ask for (testutil.Tool).
TEST_TOOLS    := dig nsupdate kdig knsupdate named-checkzone named nsd knotd chromium curl ip unshare git
TEST_PACKAGES := bind9-dnsutils knot-dnsutils bind9-utils bind9 nsd knot chromium curl iproute2 util-linux git

.PHONY: all build run test test-deps fmt-check vet fuzz bench bench-go bench-peers clean

all: build

# -buildvcs=auto: the commit is stamped into the binary (stratus version)
# even where GOFLAGS turns stamping off.
build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/stratus

# Run a server with the demo zone on 127.0.0.1:1053 (DNS) and :8053 (API).
run:
	$(GO) run ./cmd/stratus serve --demo

# The whole test suite, with every external tool required. -count=1: the
# end-to-end tests build the binary themselves, which the test cache cannot
# see, so results are never taken from the cache. The end-to-end package
# takes about 5 minutes on an idle 2-core machine and over 16 on a loaded
# one; the timeout is for a hung test, not a slow machine.
test: test-deps fmt-check vet
	STRATUS_REQUIRE_TOOLS=1 $(GO) test -race -count=1 -timeout 60m ./...

# Install the Debian packages the tests need when a tool is missing.
test-deps:
	@missing=""; for t in $(TEST_TOOLS); do { command -v $$t || test -x /usr/sbin/$$t; } >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
		echo "missing test tools:$$missing; installing $(TEST_PACKAGES)"; \
		if [ "$$(id -u)" = 0 ]; then \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEST_PACKAGES); \
		else \
			echo "run as root, or: sudo apt-get install $(TEST_PACKAGES)"; exit 1; \
		fi; \
	fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Short fuzzing runs of every fuzz target (FUZZTIME per target); README.md
# lists them, and test/policy checks both lists against the Fuzz functions.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzQuery$$' -fuzztime $(FUZZTIME) ./internal/dnswire
	$(GO) test -run '^$$' -fuzz '^FuzzHandler$$' -fuzztime $(FUZZTIME) ./internal/dnsserver
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/zonefile
	$(GO) test -run '^$$' -fuzz '^FuzzChangeRequest$$' -fuzztime $(FUZZTIME) ./internal/api
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzServe$$' -fuzztime $(FUZZTIME) ./internal/xfr
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/update
	$(GO) test -run '^$$' -fuzz '^FuzzParseTransfer$$' -fuzztime $(FUZZTIME) ./internal/secondary
	$(GO) test -run '^$$' -fuzz '^FuzzParseScenario$$' -fuzztime $(FUZZTIME) ./internal/drill

# Benchmarks (not part of `make test`): the Go benchmarks, the end-to-end
# measurements, then the peer comparison (bench-peers).
bench: bench-go bench-peers

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...
	STRATUS_BENCH=1 $(GO) test -count=1 -timeout 30m -run 'FailoverTimes|RegistrationLoad|PropagationToBIND|AXFRMillion' -v ./test/e2e
	STRATUS_HEALTH_LOAD=1 $(GO) test -count=1 -run Load -v ./internal/health

# Stratus against peer authoritative servers with dnsperf (see
# bench/README.md); PEERS_FLAGS are passed on, e.g. PEERS_FLAGS=--quick.
PEERS_FLAGS ?=
bench-peers:
	bench/run.sh $(PEERS_FLAGS)

clean:
	rm -rf bin
