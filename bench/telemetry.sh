#!/bin/sh
# What the observability outputs cost the query path: Stratus with metrics
# off, metrics on, the query log at 1% and 100% to a file, and dnstap to
# fstrm_capture, measured with dnsperf in interleaved runs: see
# bench/README.md ("What observability costs").
#
#   bench/telemetry.sh [-l 10s] [-runs 3] [-rows off,metrics,...] [-keep]
set -eu
cd "$(dirname "$0")/.."
command -v dnsperf >/dev/null 2>&1 || { echo "dnsperf not found (Debian dnsperf)"; exit 1; }
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/stratus" ./cmd/stratus
go build -o "$BIN/telemetrybench" ./bench/telemetrybench
"$BIN/telemetrybench" -stratus "$BIN/stratus" "$@"
