#!/bin/sh
# Measure importing a large zone: time for `stratus zone import` (parse,
# upload, one transaction, publish), the server's resident memory
# afterwards, and the time to load the zone again at a restart.
#
#   bench/import.sh [RECORDS]      (default 1000000)
#
# Ports: DNS_PORT (default 25353) and API_PORT (default 28053) on 127.0.0.1.
# Results are printed and appended to bench/results/import.txt.
set -eu
N=${1:-1000000}
DNS_PORT=${DNS_PORT:-25353}
API_PORT=${API_PORT:-28053}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/stratus" ./cmd/stratus
awk -v n="$N" 'BEGIN {
	print "$ORIGIN big.test.\n$TTL 300"
	print "@ SOA ns1 hostmaster 1 3600 600 1209600 60\n@ NS ns1\nns1 A 192.0.2.53"
	for (i = 0; i < n - 3; i++) printf "h%d A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
}' > "$work/big.zone"

start() {
	"$work/stratus" serve --data-dir "$work/data" --dns-listen "127.0.0.1:$DNS_PORT" --api-listen "127.0.0.1:$API_PORT" >"$work/serve.log" 2>&1 &
	pid=$!
	until grep -q "stratus ready" "$work/serve.log"; do
		if ! kill -0 $pid 2>/dev/null; then
			echo "stratus failed to start:" >&2
			cat "$work/serve.log" >&2
			exit 1
		fi
		sleep 0.1
	done
}
rss() { awk '/VmRSS/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$pid/status"; }

start
rss_empty=$(rss)
t0=$(date +%s.%N)
"$work/stratus" --data-dir "$work/data" --server "http://127.0.0.1:$API_PORT" zone import big.test "$work/big.zone" >/dev/null
t1=$(date +%s.%N)
import_s=$(echo "$t1 - $t0" | bc)
rss_after=$(rss)
answer=$(dig +short @127.0.0.1 -p "$DNS_PORT" h$((N / 2)).big.test A || echo "(dig missing)")
kill -TERM $pid; wait $pid || true

t0=$(date +%s.%N)
start
t1=$(date +%s.%N)
restart_s=$(echo "$t1 - $t0" | bc)
rss_loaded=$(rss)
load=$(grep -o 'msg="zones loaded".*took=[^ ]*' "$work/serve.log" | grep -o 'took=.*')

mkdir -p bench/results
{
	echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git rev-parse --short HEAD 2>/dev/null || echo unknown) records=$N"
	echo "import (parse + upload + commit + publish): ${import_s}s"
	echo "server RSS: empty ${rss_empty}, after import ${rss_after}, after restart ${rss_loaded}"
	echo "restart until ready: ${restart_s}s (store load ${load})"
	echo "store file: $(du -h "$work/data/stratus.db" | cut -f1)"
	echo "dig h$((N / 2)).big.test: ${answer}"
} | tee -a bench/results/import.txt
