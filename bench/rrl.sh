#!/bin/sh
# Response rate limiting against a reflection flood, Stratus beside Knot
# DNS (mod-rrl), and the cost of rate limiting for ordinary traffic: see
# bench/README.md ("Response rate limiting").
#
#   bench/rrl.sh [-duration 10s] [-flood-rate N] [...]   (rrlbench flags)
#
# 1. The flood as fast as the machine allows, then at 20,000 queries a
#    second (a rate the server keeps up with on a small machine), each
#    against Stratus and Knot with rate limiting on and off.
# 2. go test -bench BenchmarkUDPRRL, BenchmarkServeRRL and
#    BenchmarkRRLLimit: queries a second and CPU time per query with rate
#    limiting on and off, and the limiter's own cost.
set -eu
cd "$(dirname "$0")/.."

command -v knotd >/dev/null 2>&1 || [ -x /usr/sbin/knotd ] || echo "knotd not found: Knot is skipped"
KNOTD=$(command -v knotd || echo /usr/sbin/knotd)
[ -x "$KNOTD" ] || KNOTD=""

BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/stratus" ./cmd/stratus
go build -o "$BIN/rrlbench" ./bench/rrlbench

echo "## Flood as fast as the machine allows"
"$BIN/rrlbench" -stratus "$BIN/stratus" -knotd "$KNOTD" "$@"
echo
echo "## Flood at 20,000 queries a second"
"$BIN/rrlbench" -stratus "$BIN/stratus" -knotd "$KNOTD" -flood-rate 20000 "$@"
echo
echo "## Ordinary traffic, rate limiting on and off"
go test -run '^$' -bench 'BenchmarkUDPRRL' -benchtime 200000x -count 3 ./internal/dnsserver
go test -run '^$' -bench 'BenchmarkServeRRL/positive|BenchmarkRRLLimit' -count 6 ./internal/dnsserver
