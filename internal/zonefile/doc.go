// Package zonefile reads and writes RFC 1035 master files ("zone files")
// for one zone.
//
// Parse turns a zone file into the zone's RRsets. The syntax ($ORIGIN,
// $TTL, relative names, parentheses, escapes, comments, RFC 3597 generic
// data, $GENERATE and, only when asked for, $INCLUDE) is left to the
// ZoneParser of github.com/miekg/dns; this package canonicalises owner
// names, groups records into RRsets (RFC 2181 section 5) and validates the
// result as a whole zone with model.CheckNode. Every error is a
// *model.Error whose Field is "file:line", so a user can go straight to the
// offending line. miekg/dns does not say on which line a record was, so
// the input is read through a reader that counts lines for it.
//
// Write exports RRsets as a zone file that Parse reads back to the same
// RRsets and that BIND's named-checkzone accepts (and reads as the same
// zone). It streams: apart from a sorted copy of the slice of RRsets,
// memory use does not grow with the size of the output.
//
// Known limitation inherited from miekg/dns: records produced by $GENERATE
// without an explicit TTL get 3600 seconds, not the current $TTL.
package zonefile
