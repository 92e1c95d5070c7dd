// Package xfr answers the requests the query path hands over because they
// need more than a snapshot lookup: outgoing zone transfers, AXFR
// (RFC 5936) and IXFR (RFC 1995) from the journal, and every request
// signed with TSIG (RFC 8945).
//
// A transfer is read from the store in one transaction (control
// ReadTransfer: serial, records and journal agree), copied out so that no
// writer waits on a slow secondary, then written as a stream of messages,
// each signed when the request was. The zone's transfer ACL decides who
// may transfer it; with no rule, nobody may.
package xfr
