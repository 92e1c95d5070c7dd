package e2e

// DNS behaviour of the real binary, seen through dig and kdig: zones are
// imported from testdata/dns_*.zone with `stratus zone import`, then
// queried over UDP and TCP. The lookup semantics follow the table in
// internal/zone/lookup_test.go; these tests check that they survive the
// wire (flags, rcodes, EDNS, truncation, presentation of every type).
//
// Name compression in Stratus matches names case-insensitively, so when the
// query name has upper-case letters, later names sharing a suffix with it
// are printed with the query's case (www.Example.COM. for www.example.com.).
// Rows with mixed-case query names spell out this effect.

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// The negative-answer SOA of example.com.: TTL = min(SOA TTL 3600, MINIMUM
// 300) (RFC 2308 section 3).
const dnsExampleSOA = "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"

// The referral for sub.example.com.: NS in authority, in-bailiwick glue in
// additional (ns.example.net. has none here), AA clear.
var (
	dnsSubNS   = []string{"sub.example.com. 3600 IN NS ns1.sub.example.com.", "sub.example.com. 3600 IN NS ns.example.net."}
	dnsSubGlue = []string{"ns1.sub.example.com. 3600 IN A 192.0.2.54", "ns1.sub.example.com. 3600 IN AAAA 2001:db8::54"}
)

func TestDNSLookup(t *testing.T) {
	s := startDNSServer(t, "example.com.", "child.example.com.", "other.test.")
	tools := []*dnsTool{digTool(t, s), kdigTool(t, s)}
	checkDNSCases(t, tools, []dnsCase{
		// Positive answers.
		{name: "exact match is authoritative", qname: "www.example.com.", qtype: "A", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"}},
		{name: "query name case is kept in question and answer", qname: "WwW.ExAmple.COM.", qtype: "AAAA", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"WwW.ExAmple.COM. 300 IN AAAA 2001:db8::1"}},
		{name: "apex NS", qname: "example.com.", qtype: "NS",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer:     []string{"example.com. 3600 IN NS ns1.example.com.", "example.com. 3600 IN NS ns2.example.net."},
			additional: []string{"ns1.example.com. 3600 IN A 192.0.2.53"}},
		{name: "apex SOA has the record TTL", qname: "example.com.", qtype: "SOA",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"}},
		{name: "recursion desired is echoed, recursion available is not set", qname: "www.example.com.", qtype: "A",
			opts:  []string{"+recurse"},
			rcode: "NOERROR", flags: "qr aa rd", opt: dnsOPTv0,
			answer: []string{"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"}},
		{name: "checking disabled is echoed", qname: "www.example.com.", qtype: "A", opts: []string{"+cdflag"},
			rcode: "NOERROR", flags: "qr aa cd", opt: dnsOPTv0,
			answer: []string{"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"}},

		// Negative answers: SOA in authority with TTL min(SOA TTL, MINIMUM).
		{name: "NODATA", qname: "www.example.com.", qtype: "TXT", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
		{name: "NXDOMAIN", qname: "nope.example.com.", qtype: "A", tcpToo: true,
			rcode: "NXDOMAIN", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
		{name: "NXDOMAIN in upper case: the SOA is compressed against the query name", qname: "NOPE.EXAMPLE.COM.", qtype: "A",
			rcode: "NXDOMAIN", flags: "qr aa", opt: dnsOPTv0,
			authority: []string{"EXAMPLE.COM. 300 IN SOA ns1.EXAMPLE.COM. hostmaster.EXAMPLE.COM. 1 7200 3600 1209600 300"}},
		{name: "unknown type at an existing name is NODATA", qname: "www.example.com.", qtype: "TYPE65280",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
		{name: "empty non-terminal is NODATA", qname: "c.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
		{name: "deeper empty non-terminal is NODATA", qname: "b.c.example.com.", qtype: "TXT",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
		{name: "below an empty non-terminal is NXDOMAIN", qname: "x.c.example.com.", qtype: "TXT",
			rcode: "NXDOMAIN", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},

		// CNAME.
		{name: "CNAME is chased", qname: "alias.example.com.", qtype: "A", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{
				"alias.example.com. 300 IN CNAME www.example.com.",
				"www.example.com. 300 IN A 192.0.2.1",
				"www.example.com. 300 IN A 192.0.2.2",
			}},
		{name: "CNAME chain is chased", qname: "chain.example.com.", qtype: "AAAA",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{
				"chain.example.com. 300 IN CNAME alias.example.com.",
				"alias.example.com. 300 IN CNAME www.example.com.",
				"www.example.com. 300 IN AAAA 2001:db8::1",
			}},
		{name: "CNAME chain in upper case: names after the first take the query's case", qname: "ALIAS.Example.COM.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{
				"ALIAS.Example.COM. 300 IN CNAME www.Example.COM.",
				"www.Example.COM. 300 IN A 192.0.2.1",
				"www.Example.COM. 300 IN A 192.0.2.2",
			}},
		{name: "CNAME query returns the CNAME only", qname: "alias.example.com.", qtype: "CNAME",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"alias.example.com. 300 IN CNAME www.example.com."}},
		{name: "CNAME to a missing name is NXDOMAIN with the CNAME (RFC 6604)", qname: "dangling.example.com.", qtype: "A", tcpToo: true,
			rcode: "NXDOMAIN", flags: "qr aa", opt: dnsOPTv0,
			answer:    []string{"dangling.example.com. 300 IN CNAME nothere.example.com."},
			authority: []string{dnsExampleSOA}},
		{name: "CNAME to a name without the type is NODATA with the CNAME", qname: "alias.example.com.", qtype: "MX",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer:    []string{"alias.example.com. 300 IN CNAME www.example.com."},
			authority: []string{dnsExampleSOA}},
		{name: "CNAME into another hosted zone is chased", qname: "other.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{
				"other.example.com. 300 IN CNAME www.other.test.",
				"www.other.test. 3600 IN A 198.51.100.1",
			}},
		{name: "CNAME out of our zones is not chased", qname: "external.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"external.example.com. 300 IN CNAME foo.example.net."}},
		{name: "CNAME loop stops", qname: "loop1.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{
				"loop1.example.com. 300 IN CNAME loop2.example.com.",
				"loop2.example.com. 300 IN CNAME loop1.example.com.",
			}},
		{name: "CNAME into a delegation ends with the referral", qname: "tocut.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer:     []string{"tocut.example.com. 300 IN CNAME host.sub.example.com."},
			authority:  dnsSubNS,
			additional: dnsSubGlue},

		// Wildcards.
		{name: "wildcard synthesises the query name as owner", qname: "host.wild.example.com.", qtype: "A", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"host.wild.example.com. 300 IN A 192.0.2.100"}},
		{name: "wildcard keeps the query name's case", qname: "HOST.Wild.example.com.", qtype: "MX",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer:     []string{"HOST.Wild.example.com. 300 IN MX 10 mail.example.com."},
			additional: []string{"mail.example.com. 300 IN A 192.0.2.25"}},
		{name: "wildcard covers several labels", qname: "a.b.wild.example.com.", qtype: "MX",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer:     []string{"a.b.wild.example.com. 300 IN MX 10 mail.example.com."},
			additional: []string{"mail.example.com. 300 IN A 192.0.2.25"}},
		{name: "wildcard without the type is NODATA", qname: "host.wild.example.com.", qtype: "AAAA",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
		{name: "an existing name is not matched by the wildcard", qname: "exists.wild.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
		{name: "no wildcard match below an existing name", qname: "x.exists.wild.example.com.", qtype: "A",
			rcode: "NXDOMAIN", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
		{name: "the wildcard's parent is an empty non-terminal", qname: "wild.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
		{name: "the literal wildcard name is an exact match", qname: "*.wild.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"*.wild.example.com. 300 IN A 192.0.2.100"}},
		{name: "wildcard CNAME is synthesised and chased", qname: "x.cnamewild.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{
				"x.cnamewild.example.com. 300 IN CNAME www.example.com.",
				"www.example.com. 300 IN A 192.0.2.1",
				"www.example.com. 300 IN A 192.0.2.2",
			}},

		// Delegations.
		{name: "referral: no AA, NS in authority, glue in additional", qname: "sub.example.com.", qtype: "A", tcpToo: true,
			rcode: "NOERROR", flags: "qr", opt: dnsOPTv0, authority: dnsSubNS, additional: dnsSubGlue},
		{name: "referral below the cut", qname: "host.sub.example.com.", qtype: "AAAA",
			rcode: "NOERROR", flags: "qr", opt: dnsOPTv0, authority: dnsSubNS, additional: dnsSubGlue},
		{name: "referral below the cut keeps the query case", qname: "Host.SUB.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr", opt: dnsOPTv0,
			authority:  []string{"SUB.example.com. 3600 IN NS ns1.SUB.example.com.", "SUB.example.com. 3600 IN NS ns.example.net."},
			additional: []string{"ns1.SUB.example.com. 3600 IN A 192.0.2.54", "ns1.SUB.example.com. 3600 IN AAAA 2001:db8::54"}},
		{name: "NS at the cut is a referral", qname: "sub.example.com.", qtype: "NS",
			rcode: "NOERROR", flags: "qr", opt: dnsOPTv0, authority: dnsSubNS, additional: dnsSubGlue},
		{name: "SOA at the cut is a referral", qname: "sub.example.com.", qtype: "SOA",
			rcode: "NOERROR", flags: "qr", opt: dnsOPTv0, authority: dnsSubNS, additional: dnsSubGlue},
		{name: "ANY at the cut is a referral", qname: "sub.example.com.", qtype: "ANY", opts: []string{"+notcp"},
			rcode: "NOERROR", flags: "qr", opt: dnsOPTv0, authority: dnsSubNS, additional: dnsSubGlue},
		{name: "glue is not answered authoritatively", qname: "ns1.sub.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr", opt: dnsOPTv0, authority: dnsSubNS, additional: dnsSubGlue},
		{name: "DS is answered from the parent with AA", qname: "sub.example.com.", qtype: "DS", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"sub.example.com. 3600 IN DS 12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118D8C6D0B3A9A0B0C0B0D0E0F0"}},
		{name: "missing DS at a cut is NODATA from the parent", qname: "nods.example.com.", qtype: "DS",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
		{name: "DS below a cut is a referral", qname: "x.sub.example.com.", qtype: "DS",
			rcode: "NOERROR", flags: "qr", opt: dnsOPTv0, authority: dnsSubNS, additional: dnsSubGlue},

		// A hosted child zone (child.example.com.) below a cut in example.com.
		{name: "hosted child answers below its apex", qname: "www.child.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"www.child.example.com. 3600 IN A 192.0.2.77"}},
		{name: "hosted child answers its NS with AA", qname: "child.example.com.", qtype: "NS",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer:     []string{"child.example.com. 3600 IN NS ns1.child.example.com."},
			additional: []string{"ns1.child.example.com. 3600 IN A 192.0.2.55"}},
		{name: "hosted child answers its SOA", qname: "child.example.com.", qtype: "SOA",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"child.example.com. 3600 IN SOA ns1.child.example.com. hostmaster.example.com. 7 7200 3600 1209600 60"}},
		{name: "hosted child answers the name that is glue in the parent", qname: "ns1.child.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"ns1.child.example.com. 3600 IN A 192.0.2.55"}},
		{name: "hosted child NXDOMAIN has its own SOA, TTL min(3600, 60)", qname: "x.child.example.com.", qtype: "A",
			rcode: "NXDOMAIN", flags: "qr aa", opt: dnsOPTv0,
			authority: []string{"child.example.com. 60 IN SOA ns1.child.example.com. hostmaster.example.com. 7 7200 3600 1209600 60"}},
		{name: "DS for a hosted child comes from the hosted parent", qname: "child.example.com.", qtype: "DS",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"child.example.com. 3600 IN DS 54321 13 2 1111111111111111111111111111111111111111111111111111111111111111"}},
		{name: "DS at an apex whose parent is not served is NODATA", qname: "other.test.", qtype: "DS",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			authority: []string{"other.test. 120 IN SOA ns1.example.com. hostmaster.example.com. 9 7200 3600 1209600 120"}},
		{name: "DS at example.com.'s apex is NODATA", qname: "example.com.", qtype: "DS",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},

		// ANY (RFC 8482): one RRset. +notcp: dig may otherwise send ANY
		// over TCP.
		{name: "ANY returns one RRset", qname: "www.example.com.", qtype: "ANY", opts: []string{"+notcp"}, tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"}},
		{name: "ANY at a CNAME returns the CNAME", qname: "alias.example.com.", qtype: "ANY", opts: []string{"+notcp"},
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"alias.example.com. 300 IN CNAME www.example.com."}},
		{name: "ANY at an empty non-terminal is NODATA", qname: "c.example.com.", qtype: "ANY", opts: []string{"+notcp"},
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},

		// Not ours.
		{name: "a name outside our zones is refused", qname: "www.example.org.", qtype: "A", tcpToo: true,
			rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},
		{name: "a name above our zones is refused", qname: "com.", qtype: "SOA",
			rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},
		{name: "the root is refused", qname: ".", qtype: "NS",
			rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},
		{name: "class CH is refused", qname: "version.bind.", qtype: "TXT", qclass: "CH",
			rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},
		{name: "AXFR is refused (no transfers are allowed)", qname: "example.com.", qtype: "AXFR",
			// dig turns comments off for transfers; kdig prints no
			// response, only an error.
			digOpts: []string{"+comments", "+question"}, kdigError: "server replied with error 'REFUSED'",
			rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},
	})
}

func TestDNSProtocol(t *testing.T) {
	s := startDNSServer(t, "example.com.")
	tools := []*dnsTool{digTool(t, s), kdigTool(t, s)}
	www := []string{"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"}
	checkDNSCases(t, tools, []dnsCase{
		// EDNS (RFC 6891).
		{name: "EDNS: OPT is returned with our payload size 1232", qname: "www.example.com.", qtype: "A", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: www},
		{name: "EDNS: a payload size of 4096 is answered with ours", qname: "www.example.com.", qtype: "A", opts: []string{"+bufsize=4096"},
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: www},
		{name: "EDNS: DO is echoed", qname: "www.example.com.", qtype: "A", opts: []string{"+dnssec"}, tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: "OPT version=0 udp=1232 flags=do", answer: www},
		{name: "EDNS: unknown options are ignored", qname: "www.example.com.", qtype: "A", opts: []string{"+ednsopt=65001:0102"},
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: www},
		{name: "EDNS: no OPT in the response to a query without one", qname: "www.example.com.", qtype: "A", opts: []string{"+noedns"}, tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", answer: www},
		{name: "EDNS: no OPT in a negative response to a query without one", qname: "nope.example.com.", qtype: "A", opts: []string{"+noedns"},
			rcode: "NXDOMAIN", flags: "qr aa", authority: []string{dnsExampleSOA}},
		{name: "EDNS: no OPT in REFUSED to a query without one", qname: "www.example.org.", qtype: "A", opts: []string{"+noedns"},
			rcode: "REFUSED", flags: "qr"},
		{name: "EDNS: version 1 gets BADVERS with an OPT of version 0", qname: "www.example.com.", qtype: "A", tcpToo: true,
			// dig retries with version 0 on BADVERS unless told not to.
			digOpts: []string{"+edns=1", "+noednsnegotiation"}, kdigOpts: []string{"+edns=1"},
			rcode: "BADVERS", flags: "qr", opt: dnsOPTv0},
		{name: "EDNS: version 1 with DO gets BADVERS with DO echoed", qname: "www.example.com.", qtype: "A",
			opts:    []string{"+dnssec"},
			digOpts: []string{"+edns=1", "+noednsnegotiation"}, kdigOpts: []string{"+edns=1"},
			rcode: "BADVERS", flags: "qr", opt: "OPT version=0 udp=1232 flags=do"},

		// Opcodes other than QUERY: NOTIMP, question and opcode echoed.
		{name: "opcode IQUERY (1) is NOTIMP", qname: "www.example.com.", qtype: "A",
			digOpts: []string{"+opcode=1"}, skipKdig: "kdig cannot set the opcode",
			opcode: "IQUERY", rcode: "NOTIMP", flags: "qr", opt: dnsOPTv0},
		{name: "opcode STATUS (2) is NOTIMP", qname: "www.example.com.", qtype: "A",
			digOpts: []string{"+opcode=2"}, skipKdig: "kdig cannot set the opcode",
			opcode: "STATUS", rcode: "NOTIMP", flags: "qr", opt: dnsOPTv0},
		{name: "unassigned opcode 3 is NOTIMP", qname: "www.example.com.", qtype: "A", tcpToo: true,
			digOpts: []string{"+opcode=3"}, skipKdig: "kdig cannot set the opcode",
			opcode: "RESERVED3", rcode: "NOTIMP", flags: "qr", opt: dnsOPTv0},
		{name: "unassigned opcode 15 without EDNS is NOTIMP", qname: "www.example.com.", qtype: "A",
			digOpts: []string{"+opcode=15", "+noedns"}, skipKdig: "kdig cannot set the opcode",
			opcode: "RESERVED15", rcode: "NOTIMP", flags: "qr"},
		{name: "unassigned opcode 15 without a question is NOTIMP, not FORMERR", noQuestion: true, tcpToo: true,
			digOpts: []string{"+header-only", "+opcode=15", "+noedns"}, skipKdig: "kdig cannot set the opcode",
			opcode: "RESERVED15", rcode: "NOTIMP", flags: "qr"},
		{name: "unassigned opcode 15 without a question keeps EDNS", noQuestion: true,
			digOpts: []string{"+header-only", "+opcode=15", "+edns=0", "+noednsnegotiation"}, skipKdig: "kdig cannot set the opcode",
			opcode: "RESERVED15", rcode: "NOTIMP", flags: "qr", opt: dnsOPTv0},
		// NOTIFY is for secondary zones; example.com. is a zone of our own.
		{name: "opcode NOTIFY (4) from dig for a primary zone is NOTAUTH", qname: "example.com.", qtype: "SOA",
			digOpts: []string{"+opcode=4"}, skipKdig: "the next row sends NOTIFY with kdig",
			opcode: "NOTIFY", rcode: "NOTAUTH", flags: "qr", opt: dnsOPTv0},
		{name: "NOTIFY from kdig for a primary zone is NOTAUTH", qname: "example.com.", qtype: "NOTIFY", question: "example.com. IN SOA",
			skipDig: "the previous row sends NOTIFY with dig",
			opcode:  "NOTIFY", rcode: "NOTAUTH", flags: "qr", opt: dnsOPTv0},
		{name: "opcode UPDATE (5) without an update ACL is REFUSED", qname: "example.com.", qtype: "SOA", tcpToo: true,
			digOpts: []string{"+opcode=5"}, skipKdig: "kdig cannot set the opcode; TestDNSUpdateRefusedWithoutACL uses knsupdate",
			opcode: "UPDATE", rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},

		// Malformed queries.
		{name: "qtype OPT is FORMERR", qname: "www.example.com.", qtype: "TYPE41", question: "www.example.com. IN OPT", tcpToo: true,
			rcode: "FORMERR", flags: "qr", opt: dnsOPTv0},
		{name: "no question is FORMERR", noQuestion: true,
			digOpts: []string{"+header-only", "+noedns"}, skipKdig: "kdig always sends a question", tcpToo: true,
			rcode: "FORMERR", flags: "qr"},
	})
}

func TestDNSTypes(t *testing.T) {
	s := startDNSServer(t, "types.test.")
	tools := []*dnsTool{digTool(t, s), kdigTool(t, s)}
	const long255 = "000-001-002-003-004-005-006-007-008-009-010-011-012-013-014-015-016-017-018-019-020-021-022-023-024-025-026-027-028-029-030-031-032-033-034-035-036-037-038-039-040-041-042-043-044-045-046-047-048-049-050-051-052-053-054-055-056-057-058-059-060-061-062-063"
	if len(long255) != 255 {
		t.Fatalf("long255 has %d octets", len(long255))
	}
	checkDNSCases(t, tools, []dnsCase{
		{name: "A", qname: "www.types.test.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: []string{"www.types.test. 300 IN A 192.0.2.80"}},
		{name: "AAAA", qname: "www.types.test.", qtype: "AAAA",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: []string{"www.types.test. 300 IN AAAA 2001:db8::80"}},
		{name: "CNAME", qname: "ftp.types.test.", qtype: "CNAME",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: []string{"ftp.types.test. 3600 IN CNAME www.types.test."}},
		{name: "NS", qname: "types.test.", qtype: "NS",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: []string{"types.test. 3600 IN NS ns1.types.test."},
			additional: []string{"ns1.types.test. 3600 IN A 192.0.2.53"}},
		{name: "SOA", qname: "types.test.", qtype: "SOA",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"types.test. 3600 IN SOA ns1.types.test. hostmaster.types.test. 2024010101 7200 3600 1209600 300"}},
		{name: "MX", qname: "types.test.", qtype: "MX",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer:     []string{"types.test. 3600 IN MX 10 mail.types.test.", "types.test. 3600 IN MX 20 mail.backup.example.net."},
			additional: []string{"mail.types.test. 3600 IN A 192.0.2.25"}},
		{name: "TXT with several strings and escapes", qname: "multi.types.test.", qtype: "TXT",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{`multi.types.test. 3600 IN TXT "multi" "string" "with \"quotes\"" "back\\slash" "semi;colon"`}},
		{name: "TXT longer than 255 octets is split into strings", qname: "long.types.test.", qtype: "TXT", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{`long.types.test. 3600 IN TXT "` + long255 + `" "-064-065-066-067-068-069-070-071-072-073-074-"`}},
		{name: "TXT with an empty string", qname: "empty.types.test.", qtype: "TXT",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: []string{`empty.types.test. 3600 IN TXT ""`}},
		{name: "SRV", qname: "_sip._tcp.types.test.", qtype: "SRV",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer:     []string{"_sip._tcp.types.test. 3600 IN SRV 10 60 5060 sip.types.test."},
			additional: []string{"sip.types.test. 3600 IN A 192.0.2.60"}},
		{name: "CAA", qname: "types.test.", qtype: "CAA",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{`types.test. 3600 IN CAA 0 issue "letsencrypt.org"`, `types.test. 3600 IN CAA 128 iodef "mailto:security@types.test"`}},
		{name: "PTR", qname: "80.2.0.192.types.test.", qtype: "PTR",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"80.2.0.192.types.test. 3600 IN PTR www.types.test."}},
		{name: "DS", qname: "sec.types.test.", qtype: "DS",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"sec.types.test. 3600 IN DS 12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118A0C0B1B7E6FD5A36C3E4F8C8"}},
		{name: "HTTPS", qname: "types.test.", qtype: "HTTPS", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer:     []string{`types.test. 3600 IN HTTPS 1 . alpn="h2,h3" port=443 ipv4hint=192.0.2.80`},
			kdigAnswer: []string{`types.test. 3600 IN HTTPS 1 . alpn=h2,h3 port=443 ipv4hint=192.0.2.80`}},
		{name: "SVCB, service and alias mode", qname: "svc.types.test.", qtype: "SVCB",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{
				`svc.types.test. 3600 IN SVCB 1 svc-backend.types.test. mandatory=alpn,port alpn="h2" port=8443 ipv4hint=192.0.2.10,192.0.2.11`,
				`svc.types.test. 3600 IN SVCB 0 svc-backend.types.test.`,
			},
			kdigAnswer: []string{
				`svc.types.test. 3600 IN SVCB 1 svc-backend.types.test. mandatory=alpn,port alpn=h2 port=8443 ipv4hint=192.0.2.10,192.0.2.11`,
				`svc.types.test. 3600 IN SVCB 0 svc-backend.types.test.`,
			}},
		{name: "NAPTR", qname: "naptr.types.test.", qtype: "NAPTR",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{
				`naptr.types.test. 3600 IN NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@types.test!" .`,
				`naptr.types.test. 3600 IN NAPTR 102 10 "S" "SIP+D2U" "" _sip._tcp.types.test.`,
			}},
		{name: "TLSA", qname: "_443._tcp.www.types.test.", qtype: "TLSA",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"_443._tcp.www.types.test. 3600 IN TLSA 3 1 1 D2ABDE240D7CD3EE6B4B28C54DF034B97983A1D16E8A410E4561CB106618E971"}},
		{name: "unknown type in RFC 3597 form", qname: "unknown.types.test.", qtype: "TYPE65280", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{`unknown.types.test. 3600 IN TYPE65280 \# 4 0A000001`}},
		{name: "ANY at the apex returns one RRset", qname: "types.test.", qtype: "ANY", opts: []string{"+notcp"},
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer:     []string{"types.test. 3600 IN NS ns1.types.test."},
			additional: []string{"ns1.types.test. 3600 IN A 192.0.2.53"}},
	})
}

// dnsBigTXT is the answer for big.big.test. TXT (testdata/dns_big.test.zone).
var dnsBigTXT = []string{
	`big.big.test. 3600 IN TXT "big 01: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
	`big.big.test. 3600 IN TXT "big 02: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
	`big.big.test. 3600 IN TXT "big 03: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
	`big.big.test. 3600 IN TXT "big 04: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
	`big.big.test. 3600 IN TXT "big 05: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
	`big.big.test. 3600 IN TXT "big 06: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
	`big.big.test. 3600 IN TXT "big 07: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
	`big.big.test. 3600 IN TXT "big 08: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
	`big.big.test. 3600 IN TXT "big 09: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
	`big.big.test. 3600 IN TXT "big 10: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
	`big.big.test. 3600 IN TXT "big 11: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
	`big.big.test. 3600 IN TXT "big 12: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123456"`,
}

// dnsMediumTXT is the answer for medium.big.test. TXT: about 600 octets.
var dnsMediumTXT = []string{
	`medium.big.test. 3600 IN TXT "medium 01: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123"`,
	`medium.big.test. 3600 IN TXT "medium 02: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123"`,
	`medium.big.test. 3600 IN TXT "medium 03: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123"`,
	`medium.big.test. 3600 IN TXT "medium 04: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123"`,
	`medium.big.test. 3600 IN TXT "medium 05: the quick brown fox jumps over the lazy dog; 01234567890123456789012345678901234567890123"`,
}

func TestDNSTruncation(t *testing.T) {
	s := startDNSServer(t, "big.test.")
	tools := []*dnsTool{digTool(t, s), kdigTool(t, s)}
	checkDNSCases(t, tools, []dnsCase{
		{name: "over UDP a large RRset is truncated: TC, no records but OPT", qname: "big.big.test.", qtype: "TXT",
			opts:  []string{"+ignore"},
			rcode: "NOERROR", flags: "qr aa tc", opt: dnsOPTv0},
		{name: "over UDP without EDNS the truncated response has no OPT", qname: "big.big.test.", qtype: "TXT",
			opts:  []string{"+ignore", "+noedns"},
			rcode: "NOERROR", flags: "qr aa tc"},
		{name: "over TCP the large RRset is complete", qname: "big.big.test.", qtype: "TXT", tcpOnly: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: dnsBigTXT},
		{name: "by default the tool retries over TCP after TC", qname: "big.big.test.", qtype: "TXT",
			retried: true,
			rcode:   "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: dnsBigTXT},
		{name: "ANY with a large RRset is truncated over UDP too", qname: "big.big.test.", qtype: "ANY",
			opts:  []string{"+ignore", "+notcp"},
			rcode: "NOERROR", flags: "qr aa tc", opt: dnsOPTv0},
		{name: "600 octets fit the 1232-octet EDNS limit", qname: "medium.big.test.", qtype: "TXT",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: dnsMediumTXT},
		{name: "600 octets do not fit 512 octets without EDNS", qname: "medium.big.test.", qtype: "TXT",
			opts:  []string{"+ignore", "+noedns"},
			rcode: "NOERROR", flags: "qr aa tc"},
		{name: "600 octets do not fit an EDNS payload size of 512", qname: "medium.big.test.", qtype: "TXT",
			opts:  []string{"+ignore", "+bufsize=512"},
			rcode: "NOERROR", flags: "qr aa tc", opt: dnsOPTv0},
		{name: "an EDNS payload size below 512 counts as 512", qname: "www.big.test.", qtype: "A",
			opts:  []string{"+ignore", "+bufsize=100"},
			rcode: "NXDOMAIN", flags: "qr aa", opt: dnsOPTv0,
			authority: []string{"big.test. 60 IN SOA ns1.big.test. hostmaster.big.test. 1 7200 3600 1209600 300"}},
		{name: "negative TTL is the SOA's TTL when that is below MINIMUM", qname: "big.big.test.", qtype: "A", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			authority: []string{"big.test. 60 IN SOA ns1.big.test. hostmaster.big.test. 1 7200 3600 1209600 300"}},
	})
}

// TestDNSReadYourWrites checks that a change made through the CLI is in
// the very next DNS answer, with the new SOA serial.
func TestDNSReadYourWrites(t *testing.T) {
	s := startDNSServer(t, "example.com.", "other.test.")
	tools := []*dnsTool{digTool(t, s), kdigTool(t, s)}

	checkDNSCases(t, tools, []dnsCase{
		{name: "before: new.example.com. does not exist", qname: "new.example.com.", qtype: "A",
			rcode: "NXDOMAIN", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
	})

	out := s.mustCLI("record", "add", "example.com", "new", "A", "192.0.2.99", "--ttl", "120")
	if !strings.Contains(out, "serial 1 -> 2") {
		t.Fatalf("record add: %s", out)
	}
	soa2 := "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2 7200 3600 1209600 300"
	checkDNSCases(t, tools, []dnsCase{
		{name: "after add: the record is answered", qname: "new.example.com.", qtype: "A", tcpToo: true,
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, answer: []string{"new.example.com. 120 IN A 192.0.2.99"}},
		{name: "after add: the SOA has the new serial", qname: "example.com.", qtype: "SOA",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2 7200 3600 1209600 300"}},
		{name: "after add: negative answers carry the new serial", qname: "new.example.com.", qtype: "AAAA",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0, authority: []string{soa2}},
	})

	// Each write is visible to the query right after it, for each tool.
	for _, step := range []struct {
		tool   *dnsTool
		change []string
		want   dnsCase
	}{
		{tools[0], []string{"record", "set", "example.com", "new", "A", "192.0.2.101", "--ttl", "120"}, dnsCase{
			qname: "new.example.com.", qtype: "A", rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"new.example.com. 120 IN A 192.0.2.101"}}},
		{tools[0], []string{"record", "delete", "example.com", "new", "A"}, dnsCase{
			qname: "new.example.com.", qtype: "A", rcode: "NXDOMAIN", flags: "qr aa", opt: dnsOPTv0,
			authority: []string{"example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 4 7200 3600 1209600 300"}}},
		{tools[1], []string{"record", "add", "example.com", "new", "A", "192.0.2.102"}, dnsCase{
			qname: "new.example.com.", qtype: "A", rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"new.example.com. 3600 IN A 192.0.2.102"}}},
		{tools[1], []string{"record", "delete", "example.com", "new", "A"}, dnsCase{
			qname: "new.example.com.", qtype: "A", rcode: "NXDOMAIN", flags: "qr aa", opt: dnsOPTv0,
			authority: []string{"example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 6 7200 3600 1209600 300"}}},
	} {
		s.mustCLI(step.change...)
		checkDNSCase(t, step.tool, step.want, false)
	}

	// Deleting a zone takes it out of the answers at once: its names are
	// refused and CNAMEs into it are no longer chased.
	s.mustCLI("zone", "delete", "other.test")
	checkDNSCases(t, tools, []dnsCase{
		{name: "after zone delete: its names are refused", qname: "www.other.test.", qtype: "A",
			rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},
		{name: "after zone delete: a CNAME into it is not chased", qname: "other.example.com.", qtype: "A",
			rcode: "NOERROR", flags: "qr aa", opt: dnsOPTv0,
			answer: []string{"other.example.com. 300 IN CNAME www.other.test."}},
	})
}

// TestDNSTCPKeepOpen sends several queries over one TCP connection with
// kdig +keepopen. kdig reuses the connection sequentially (it reads each
// response before sending the next query); that is connection reuse
// (RFC 7766 section 6.2.1), not pipelining with several queries in flight,
// which neither dig nor kdig can do.
func TestDNSTCPKeepOpen(t *testing.T) {
	s := startDNSServer(t, "example.com.")
	kdig := kdigTool(t, s)
	// -d makes kdig say whether it reused the connection.
	msgs, stdout, stderr := kdig.query(t, "-d", "+tcp", "+keepopen",
		"-q", "www.example.com.", "-t", "A",
		"-q", "nope.example.com.", "-t", "A",
		"-q", "alias.example.com.", "-t", "CNAME",
		"-q", "sub.example.com.", "-t", "NS")
	if n := strings.Count(stdout+stderr, "reused connection"); n != 3 {
		t.Errorf("kdig reused the TCP connection %d times, want 3\n%s%s", n, stdout, stderr)
	}
	want := []struct {
		rcode, flags string
		answer       []string
		authority    []string
	}{
		{"NOERROR", "aa qr", []string{"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"}, nil},
		{"NXDOMAIN", "aa qr", nil, []string{dnsExampleSOA}},
		{"NOERROR", "aa qr", []string{"alias.example.com. 300 IN CNAME www.example.com."}, nil},
		{"NOERROR", "qr", nil, dnsSubNS},
	}
	if len(msgs) != len(want) {
		t.Fatalf("kdig printed %d responses, want %d\n%s", len(msgs), len(want), stderr)
	}
	for i, w := range want {
		m := msgs[i]
		if m.Transport != "TCP" || m.Rcode != w.rcode || m.Flags != w.flags || strings.Join(m.Answer, "|") != strings.Join(w.answer, "|") ||
			strings.Join(m.Authority, "|") != strings.Join(w.authority, "|") {
			t.Errorf("response %d: %+v\nwant %+v", i+1, m, w)
		}
	}
}

// TestDNSTCPPipelining sends several queries in one TCP write, before
// reading any response (RFC 7766 section 6.2.1.1), which dig and kdig
// cannot do, and reads one response per query, in order.
func TestDNSTCPPipelining(t *testing.T) {
	s := startDNSServer(t, "example.com.")
	c, err := net.DialTimeout("tcp", s.dnsAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	queries := []struct {
		qname string
		qtype uint16
		rcode int
		an    int
	}{
		{"www.example.com.", dns.TypeA, dns.RcodeSuccess, 2},
		{"nope.example.com.", dns.TypeA, dns.RcodeNameError, 0},
		{"chain.example.com.", dns.TypeAAAA, dns.RcodeSuccess, 3},
		{"www.example.org.", dns.TypeA, dns.RcodeRefused, 0},
	}
	var batch []byte
	for i, q := range queries {
		m := new(dns.Msg)
		m.SetQuestion(q.qname, q.qtype)
		m.Id = uint16(1000 + i)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, byte(len(b)>>8), byte(len(b)))
		batch = append(batch, b...)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(batch); err != nil {
		t.Fatal(err)
	}
	for i, q := range queries {
		var prefix [2]byte
		if _, err := io.ReadFull(c, prefix[:]); err != nil {
			t.Fatalf("response %d: %v", i+1, err)
		}
		b := make([]byte, int(prefix[0])<<8|int(prefix[1]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatalf("response %d: %v", i+1, err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Fatalf("response %d: %v", i+1, err)
		}
		if r.Id != uint16(1000+i) || r.Rcode != q.rcode || len(r.Answer) != q.an ||
			len(r.Question) != 1 || r.Question[0].Name != q.qname || r.Question[0].Qtype != q.qtype {
			t.Errorf("response %d to %s %s: id %d rcode %s, %d answers, question %v; want id %d rcode %s, %d answers",
				i+1, q.qname, dns.TypeToString[q.qtype], r.Id, dns.RcodeToString[r.Rcode], len(r.Answer), r.Question,
				1000+i, dns.RcodeToString[q.rcode], q.an)
		}
	}
}

// TestDNSUpdateRefusedWithoutACL sends real DNS UPDATE messages (RFC 2136,
// with a zone and an update section) with nsupdate and knsupdate to a zone
// with no update ACL: REFUSED, in the update's own format, and nothing
// changes.
func TestDNSUpdateRefusedWithoutACL(t *testing.T) {
	s := startDNSServer(t, "example.com.")
	host, port := dnsSplitAddr(t, s.dnsAddr)
	script := "server " + host + " " + port + "\nzone example.com.\nupdate add x.example.com. 300 IN A 192.0.2.9\nsend\n"

	t.Run("knsupdate", func(t *testing.T) {
		out, errOut, code := dnsRunTool(t, testutil.Tool(t, "knsupdate"), script)
		msgs, err := parseKdig(out)
		if err != nil || len(msgs) != 1 || code == 0 {
			t.Fatalf("knsupdate: exit %d, %d responses, %v\n%s%s", code, len(msgs), err, out, errOut)
		}
		m := msgs[0]
		if m.Opcode != "UPDATE" || m.Rcode != "REFUSED" || m.Flags != "qr" ||
			strings.Join(m.Question, "|") != "example.com. IN SOA" || m.Answer != nil || m.Authority != nil {
			t.Errorf("knsupdate response: %+v\n%s", m, out)
		}
	})
	t.Run("nsupdate", func(t *testing.T) {
		out, errOut, code := dnsRunTool(t, testutil.Tool(t, "nsupdate"), script, "-d")
		// -d prints the outgoing update and the reply, both in dig's
		// format, between lines of its own.
		var kept []string
		for _, l := range strings.Split(out+errOut, "\n") {
			if !strings.HasPrefix(l, "Sending update to ") && !strings.HasSuffix(l, " update query:") {
				kept = append(kept, l)
			}
		}
		msgs, err := parseDig(strings.Join(kept, "\n"))
		if err != nil || len(msgs) != 2 || code == 0 {
			t.Fatalf("nsupdate: exit %d, %d messages, %v\n%s%s", code, len(msgs), err, out, errOut)
		}
		m := msgs[1]
		if m.Opcode != "UPDATE" || m.Rcode != "REFUSED" || m.Flags != "qr" ||
			strings.Join(m.Question, "|") != "example.com. IN SOA" || m.Answer != nil || m.Authority != nil {
			t.Errorf("nsupdate reply: %+v\n%s%s", m, out, errOut)
		}
	})
	// The update was not applied.
	checkDNSCases(t, []*dnsTool{digTool(t, s)}, []dnsCase{
		{name: "the update was not applied", qname: "x.example.com.", qtype: "A",
			rcode: "NXDOMAIN", flags: "qr aa", opt: dnsOPTv0, authority: []string{dnsExampleSOA}},
	})
}

// TestDNSFixturesMatchZonetest checks that testdata/dns_*.zone for the
// zonetest fixtures hold the fixtures' records: the files are the
// fixtures with an $ORIGIN line (and comments) added.
func TestDNSFixturesMatchZonetest(t *testing.T) {
	for _, f := range []struct{ file, origin, text string }{
		{"dns_example.com.zone", "example.com.", zonetest.ExampleCom},
		{"dns_child.example.com.zone", "child.example.com.", zonetest.ChildExampleCom},
		{"dns_other.test.zone", "other.test.", zonetest.OtherTest},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", f.file))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		origin := ""
		for _, l := range lines(string(b)) {
			switch {
			case strings.HasPrefix(l, ";"):
			case strings.HasPrefix(l, "$ORIGIN "):
				origin = strings.TrimSpace(strings.TrimPrefix(l, "$ORIGIN "))
			default:
				got = append(got, dnsNorm(l))
			}
		}
		want := dnsNormAll(lines(f.text))
		if origin != f.origin || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("testdata/%s ($ORIGIN %s) differs from zonetest (origin %s):\n got:\n%s\nwant:\n%s",
				f.file, origin, f.origin, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestDNSRegressions holds the server bugs these tests once found, kept as
// regression tests. Every row states the RFC-conforming behaviour.
func TestDNSRegressions(t *testing.T) {
	s := startDNSServer(t, "example.com.")
	tools := []*dnsTool{digTool(t, s), kdigTool(t, s)}
	checkDNSCases(t, tools, []dnsCase{
		// A real IXFR query carries the requester's SOA in the
		// authority section (RFC 1995 section 3). dnswire.ParseQuery
		// rejects any QUERY with a non-empty authority section as FORMERR
		// before the handler's "transfers are refused" branch is reached,
		// and that FORMERR has no OPT although the query had one (RFC 6891
		// section 6.1.1: an OPT in the request requires one in the
		// response; dig then says "EDNS query returned status FORMERR -
		// retry with '+noedns'").
		// Query: example.com. IXFR=1 (over TCP). Expected: REFUSED with
		// OPT, like AXFR. Was: FORMERR without OPT.
		{name: "IXFR is REFUSED with OPT, not FORMERR", qname: "example.com.", qtype: "IXFR=1",
			question: "example.com. IN IXFR",
			digOpts:  []string{"+comments", "+question"}, kdigError: "server replied with error 'REFUSED'",
			rcode: "REFUSED", flags: "qr", opt: dnsOPTv0},
		// A query without a question but with an OPT record (dig
		// +header-only; RFC 7873 section 5.4 uses such queries to learn a
		// server cookie) gets FORMERR without OPT: ParseQuery returns
		// "question count is not 1" before reading the additional
		// section, so the response says the server does not speak EDNS
		// (RFC 6891 sections 6.1.1 and 7).
		// Query: header only, QDCOUNT=0, ARCOUNT=1 (OPT). Expected:
		// FORMERR with an OPT record. Was: FORMERR, ARCOUNT=0.
		{name: "FORMERR to an EDNS query without a question has OPT", noQuestion: true,
			digOpts: []string{"+header-only", "+nocookie"}, skipKdig: "kdig always sends a question",
			rcode: "FORMERR", flags: "qr", opt: dnsOPTv0},
	})
}
