#!/bin/sh
# Compare Stratus with peer authoritative DNS servers (Knot, NSD, BIND,
# CoreDNS, gdnsd, PowerDNS) using dnsperf: see bench/README.md.
#
#   bench/run.sh [--quick] [--runs N] [-l SECONDS] [...]   (--help for all)
#
# Installs the missing Debian packages when run as root, and builds CoreDNS
# into bench/.cache/bin when it is missing, then runs bench/peerbench.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="dnsperf knot nsd gdnsd pdns-server pdns-backend-bind bind9"
COREDNS_VERSION=v1.14.0
CACHE=bench/.cache

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "installing Debian packages:$missing"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
	else
		echo "missing Debian packages:$missing (run as root to install them; those servers are skipped)"
	fi
fi

coredns_given=false
for a in "$@"; do
	case "$a" in -coredns|--coredns|-coredns=*|--coredns=*) coredns_given=true ;; esac
done
if ! $coredns_given && [ ! -x "$CACHE/bin/coredns" ]; then
	echo "building CoreDNS $COREDNS_VERSION into $CACHE/bin"
	mkdir -p "$CACHE/bin"
	GOBIN="$(pwd)/$CACHE/bin" go install "github.com/coredns/coredns@$COREDNS_VERSION" ||
		echo "could not build CoreDNS; it is skipped"
fi

exec go run ./bench/peerbench "$@"
