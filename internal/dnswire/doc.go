// Package dnswire reads DNS queries and writes DNS responses in wire format
// (RFC 1035 section 4) on the query path, without github.com/miekg/dns: a
// query is parsed just far enough to answer it (header, the one question,
// the EDNS(0) OPT record), and a response is written straight from a
// zone.Answer into a caller-owned buffer with name compression.
//
// ParseQuery decides what deserves a reply at all: packets that are not
// queries (too short for a header, or responses) are dropped silently so the
// server cannot be used to reflect traffic; malformed queries get FORMERR.
package dnswire
