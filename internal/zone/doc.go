// Package zone holds the immutable in-memory snapshot that the DNS query
// path answers from, and the lookup algorithm over it.
//
// A Snapshot is every zone the server is authoritative for at one store
// revision. It is never modified once published: the control plane builds
// the next one with a Builder (copying only the parts a change touches) and
// swaps it in with one atomic pointer store, so queries read without locks
// and never wait for a writer.
//
// Names inside a snapshot are uncompressed, lowercase wire format; record
// data is wire-format RDATA. Lookup implements RFC 1034 section 4.3.2 with
// the refinements of RFC 2308 (negative answers), RFC 4592 (wildcards),
// RFC 6604 (CNAME chains) and RFC 8482 (ANY): it fills an Answer with
// references into the snapshot and allocates nothing.
//
// This package is on the query path: it must not import the store, the
// control plane or the API (a test enforces it).
package zone
