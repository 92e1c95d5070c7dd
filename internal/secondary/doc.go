// Package secondary keeps secondary zones in step with their primaries
// (RFC 1034 section 4.3.5, RFC 1995, RFC 1996): for each zone it asks a
// primary for the SOA every refresh interval (at once on a NOTIFY), takes
// an IXFR when the primary's serial is newer (an AXFR the first time, or
// when the IXFR cannot be applied), retries every retry interval after a
// failure, and takes the zone out of service once no primary has answered
// for the expire interval. Everything is signed with the primary's TSIG
// key when it has one. A transfer is applied only once it has arrived
// whole and verified: a failed or partial transfer never replaces good
// data.
package secondary
