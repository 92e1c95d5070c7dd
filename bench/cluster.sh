#!/bin/sh
# Stratus on etcd against Stratus on bbolt: query throughput of one node,
# write latency through the API, endpoint lease renewals on three nodes.
# See bench/README.md, "Stratus on etcd".
#
#   bench/cluster.sh [--only qps,writes,renew] [--runs N] [...]   (--help for all)
#
# Needs etcd (Debian etcd-server) and dnsperf; builds stratus into
# bench/.cache/bin, then runs bench/clusterbench.
set -eu
cd "$(dirname "$0")/.."
for tool in etcd dnsperf taskset; do
	command -v "$tool" >/dev/null || { echo "cluster.sh: $tool is missing (Debian: etcd-server, dnsperf, util-linux)" >&2; exit 1; }
done
mkdir -p bench/.cache/bin
go build -o bench/.cache/bin/stratus ./cmd/stratus
exec go run ./bench/clusterbench "$@"
