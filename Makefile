# Stratus — see README.md.
GO      ?= go
BIN     ?= bin/stratus

# Build and test with at least the toolchain go.mod names (go1.26.10:
# standard library security fixes): the go command fetches it from the
# module proxy once when the installed Go is older, and keeps a newer one.
export GOTOOLCHAIN := auto

# Tools the tests drive, and the Debian packages that provide them.
# README.md lists them too; test/policy checks that both lists match the
# tools the tests ask for (testutil.Tool).
TEST_TOOLS    := dig nsupdate kdig knsupdate named-checkzone named nsd knotd chromium curl ip unshare git etcd nft fstrm_capture dnstap-ldns prometheus promtool
TEST_PACKAGES := bind9-dnsutils knot-dnsutils bind9-utils bind9 nsd knot chromium curl iproute2 util-linux git etcd-server nftables fstrm-bin dnstap-ldns prometheus

.PHONY: all build run test test-deps fmt-check vet lint staticcheck vulncheck tidy-check fuzz bench bench-go bench-peers clean

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
test: test-deps fmt-check vet lint
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

# Linters, at pinned versions, installed from the Go module proxy into
# .tools/ (gitignored) the first time they are needed; a version change
# installs the new one beside the old. staticcheck runs its default checks:
# they are the ones its authors keep free of false positives, so a finding
# is a thing to fix, not to argue with.
TOOLS               := $(CURDIR)/.tools
STATICCHECK_VERSION := v0.8.2
GOVULNCHECK_VERSION := v1.9.0
VULNDB_VERSION      := v0.0.0-20261105234957-e22db6528018
STATICCHECK := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)/staticcheck
GOVULNCHECK := $(TOOLS)/govulncheck-$(GOVULNCHECK_VERSION)/govulncheck
INDEXDB     := $(TOOLS)/indexdb-$(VULNDB_VERSION)/indexdb
VULNDB_DIR  := $(TOOLS)/vulndb-$(VULNDB_VERSION)

# VULNDB is the vulnerability database govulncheck reads. The default,
# "module", is built offline from the OSV reports in the
# golang.org/x/vulndb module at VULNDB_VERSION (served by the module proxy)
# with that module's indexdb; set VULNDB=https://vuln.go.dev to read the
# live database where it is reachable. A vulnerability the code calls in a
# required module fails the check; one in the standard library is fixed by
# a newer Go, not here, and is listed as a warning unless VULN_STDLIB=fail.
VULNDB      ?= module
VULN_STDLIB ?= warn

lint: staticcheck vulncheck tidy-check

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

$(STATICCHECK):
	GOBIN=$(@D) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(GOVULNCHECK):
	GOBIN=$(@D) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

$(INDEXDB):
	GOBIN=$(@D) $(GO) install golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION)

$(VULNDB_DIR)/index/db.json: $(INDEXDB)
	@src=$$(cd $(TOOLS) && GOFLAGS=-mod=mod $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	test -d "$$src/data/osv" || { echo "golang.org/x/vulndb@$(VULNDB_VERSION) has no data/osv"; exit 1; }; \
	rm -rf $(VULNDB_DIR).tmp && $(INDEXDB) -vulns "$$src/data/osv" -out $(VULNDB_DIR).tmp && rm -rf $(VULNDB_DIR) && mv $(VULNDB_DIR).tmp $(VULNDB_DIR)

ifeq ($(VULNDB),module)
vulncheck: $(GOVULNCHECK) $(VULNDB_DIR)/index/db.json
vulncheck: VULNDB_URL := file://$(VULNDB_DIR)
else
vulncheck: $(GOVULNCHECK)
vulncheck: VULNDB_URL := $(VULNDB)
endif
vulncheck:
	$(GOVULNCHECK) -db $(VULNDB_URL) -format json ./... > $(TOOLS)/govulncheck.json
	$(GO) run build/vulnfilter/main.go -stdlib=$(VULN_STDLIB) < $(TOOLS)/govulncheck.json

# go.mod and go.sum list exactly what the code needs.
tidy-check:
	$(GO) mod tidy -diff

# Short fuzzing runs of every fuzz target (FUZZTIME per target); README.md
# lists them, and test/policy checks both lists against the Fuzz functions.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzQuery$$' -fuzztime $(FUZZTIME) ./internal/dnswire
	$(GO) test -run '^$$' -fuzz '^FuzzHandler$$' -fuzztime $(FUZZTIME) ./internal/dnsserver
	$(GO) test -run '^$$' -fuzz '^FuzzTruncateResponse$$' -fuzztime $(FUZZTIME) ./internal/dnsserver
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/zonefile
	$(GO) test -run '^$$' -fuzz '^FuzzChangeRequest$$' -fuzztime $(FUZZTIME) ./internal/api
	$(GO) test -run '^$$' -fuzz '^FuzzTraceContext$$' -fuzztime $(FUZZTIME) ./internal/api
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzServe$$' -fuzztime $(FUZZTIME) ./internal/xfr
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/update
	$(GO) test -run '^$$' -fuzz '^FuzzParseTransfer$$' -fuzztime $(FUZZTIME) ./internal/secondary
	$(GO) test -run '^$$' -fuzz '^FuzzParseScenario$$' -fuzztime $(FUZZTIME) ./internal/drill
	$(GO) test -run '^$$' -fuzz '^FuzzEntry$$' -fuzztime $(FUZZTIME) ./internal/querylog
	$(GO) test -run '^$$' -fuzz '^FuzzMetricNames$$' -fuzztime $(FUZZTIME) ./deploy

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
	rm -rf bin .tools
