// Package geo maps a client address to a location: an operator's CIDR
// table (Table), a MaxMind database (MaxMind), and a Chain of them in which
// the first locator that knows the address wins. Distance gives the
// great-circle distance between two locations.
//
// Locate runs on the DNS query path, once per steered query, so every
// implementation here answers from immutable in-memory tables: no I/O, no
// lock, no allocation (TestLocateAllocatesNothing), safe for concurrent
// use. Each address family is kept as a partition of its whole space into
// sorted segments, each with a small value: an entry index for a Table, a
// location index and network length for MaxMind. A lookup picks a bucket
// of a first-level index over the leading address bits (up to 2^20
// buckets, after the bits that all segments share), binary-searches the
// two to four segments in it and copies out the Location. A Table's
// overlapping prefixes are flattened at build time so that the innermost
// one owns each segment, which makes the longest-prefix match that same
// single lookup. IPv4-mapped IPv6 addresses are looked up as IPv4.
//
// Location.Prefix is the network the answer applies to, which the DNS
// server returns as the EDNS Client Subnet scope (RFC 7871): the MaxMind
// network, or the matched CIDR entry less any more specific entry nested
// in it. A miss also carries a Prefix, the largest network around the
// address that the locator knows nothing of, so that Chain can narrow a
// later locator's answer to where the earlier ones had none.
//
// OpenMaxMind reads the database once with github.com/oschwald/maxminddb-golang/v2
// (Reader.Networks), decodes each distinct data record once for
// country.iso_code, continent.code and location.latitude/longitude, and
// closes the file. Locations are deduplicated and stored in 24 bytes each.
// Measured with TestLargeMaxMind on a synthetic City database of GeoLite2
// size (5.4 million networks, 230,000 distinct locations, 245 MiB) on a
// 2-vCPU VM: OpenMaxMind takes about 3 s and keeps about 110 MiB (8 bytes
// a segment for IPv4, 24 for IPv6, 4 MiB of index per family). Locate
// takes 25-45 ns when the addresses' table lines are cached and 200-350 ns
// for random addresses over the whole table (two dependent memory reads
// that miss the cache and the TLB). Run it on a real database with
//
//	STRATUS_GEO_MMDB=/path/GeoLite2-City.mmdb go test -run LargeMaxMind -v ./internal/geo
package geo
