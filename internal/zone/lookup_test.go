package zone_test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

func TestLookup(t *testing.T) {
	snap := zonetest.Build(t, map[string]string{
		"example.com.":       zonetest.ExampleCom,
		"child.example.com.": zonetest.ChildExampleCom,
		"other.test.":        zonetest.OtherTest,
		"nodeleg.example.com.": `
@ SOA ns1.example.com. hostmaster.example.com. 3 7200 3600 1209600 30
@ NS  ns1.example.com.
`,
	})
	soa := "NS example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"
	tests := []struct {
		name  string
		qname string
		qtype uint16
		want  []string
	}{
		{"exact match", "www.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true",
			"AN www.example.com. 300 IN A 192.0.2.1",
			"AN www.example.com. 300 IN A 192.0.2.2",
		}},
		{"query case is kept for the owner", "WwW.ExAmple.COM.", dns.TypeAAAA, []string{
			"rcode=NOERROR aa=true",
			"AN WwW.ExAmple.COM. 300 IN AAAA 2001:db8::1",
		}},
		{"apex NS", "example.com.", dns.TypeNS, []string{
			"rcode=NOERROR aa=true",
			"AN example.com. 3600 IN NS ns1.example.com.",
			"AN example.com. 3600 IN NS ns2.example.net.",
			"AR ns1.example.com. 3600 IN A 192.0.2.53",
		}},
		{"NODATA has SOA with min(TTL, MINIMUM)", "www.example.com.", dns.TypeTXT, []string{
			"rcode=NOERROR aa=true", soa,
		}},
		{"NXDOMAIN", "nope.example.com.", dns.TypeA, []string{
			"rcode=NXDOMAIN aa=true", soa,
		}},
		{"empty non-terminal is NODATA", "c.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true", soa,
		}},
		{"deeper empty non-terminal is NODATA", "b.c.example.com.", dns.TypeTXT, []string{
			"rcode=NOERROR aa=true", soa,
		}},
		{"below an empty non-terminal is NXDOMAIN", "x.c.example.com.", dns.TypeTXT, []string{
			"rcode=NXDOMAIN aa=true", soa,
		}},
		{"CNAME is followed", "alias.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true",
			"AN alias.example.com. 300 IN CNAME www.example.com.",
			"AN www.example.com. 300 IN A 192.0.2.1",
			"AN www.example.com. 300 IN A 192.0.2.2",
		}},
		{"CNAME chain is followed", "chain.example.com.", dns.TypeAAAA, []string{
			"rcode=NOERROR aa=true",
			"AN chain.example.com. 300 IN CNAME alias.example.com.",
			"AN alias.example.com. 300 IN CNAME www.example.com.",
			"AN www.example.com. 300 IN AAAA 2001:db8::1",
		}},
		{"CNAME query returns the CNAME only", "alias.example.com.", dns.TypeCNAME, []string{
			"rcode=NOERROR aa=true",
			"AN alias.example.com. 300 IN CNAME www.example.com.",
		}},
		{"CNAME to a missing name is NXDOMAIN (RFC 6604)", "dangling.example.com.", dns.TypeA, []string{
			"rcode=NXDOMAIN aa=true",
			"AN dangling.example.com. 300 IN CNAME nothere.example.com.",
			soa,
		}},
		{"CNAME to a name with no data of the type is NODATA", "alias.example.com.", dns.TypeMX, []string{
			"rcode=NOERROR aa=true",
			"AN alias.example.com. 300 IN CNAME www.example.com.",
			soa,
		}},
		{"CNAME out of our zones is not chased", "external.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true",
			"AN external.example.com. 300 IN CNAME foo.example.net.",
		}},
		{"CNAME into another of our zones is chased", "other.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true",
			"AN other.example.com. 300 IN CNAME www.other.test.",
			"AN www.other.test. 3600 IN A 198.51.100.1",
		}},
		{"CNAME loop stops", "loop1.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true",
			"AN loop1.example.com. 300 IN CNAME loop2.example.com.",
			"AN loop2.example.com. 300 IN CNAME loop1.example.com.",
		}},
		{"wildcard synthesises the query name", "host.wild.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true",
			"AN host.wild.example.com. 300 IN A 192.0.2.100",
		}},
		{"wildcard covers several labels", "a.b.wild.example.com.", dns.TypeMX, []string{
			"rcode=NOERROR aa=true",
			"AN a.b.wild.example.com. 300 IN MX 10 mail.example.com.",
			"AR mail.example.com. 300 IN A 192.0.2.25",
		}},
		{"wildcard without the type is NODATA", "host.wild.example.com.", dns.TypeAAAA, []string{
			"rcode=NOERROR aa=true", soa,
		}},
		{"existing name is not matched by the wildcard", "exists.wild.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true", soa,
		}},
		{"no wildcard match below an existing name", "x.exists.wild.example.com.", dns.TypeA, []string{
			"rcode=NXDOMAIN aa=true", soa,
		}},
		{"wildcard parent is an empty non-terminal", "wild.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true", soa,
		}},
		{"the literal wildcard name is an exact match", "*.wild.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true",
			"AN *.wild.example.com. 300 IN A 192.0.2.100",
		}},
		{"wildcard CNAME is synthesised and followed", "x.cnamewild.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true",
			"AN x.cnamewild.example.com. 300 IN CNAME www.example.com.",
			"AN www.example.com. 300 IN A 192.0.2.1",
			"AN www.example.com. 300 IN A 192.0.2.2",
		}},
		{"referral at a delegation", "sub.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=false",
			"NS sub.example.com. 3600 IN NS ns1.sub.example.com.",
			"NS sub.example.com. 3600 IN NS ns.example.net.",
			"AR ns1.sub.example.com. 3600 IN A 192.0.2.54",
			"AR ns1.sub.example.com. 3600 IN AAAA 2001:db8::54",
		}},
		{"referral below a delegation keeps the query case", "Host.SUB.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=false",
			"NS SUB.example.com. 3600 IN NS ns1.sub.example.com.",
			"NS SUB.example.com. 3600 IN NS ns.example.net.",
			"AR ns1.sub.example.com. 3600 IN A 192.0.2.54",
			"AR ns1.sub.example.com. 3600 IN AAAA 2001:db8::54",
		}},
		{"NS at a delegation is a referral", "sub.example.com.", dns.TypeNS, []string{
			"rcode=NOERROR aa=false",
			"NS sub.example.com. 3600 IN NS ns1.sub.example.com.",
			"NS sub.example.com. 3600 IN NS ns.example.net.",
			"AR ns1.sub.example.com. 3600 IN A 192.0.2.54",
			"AR ns1.sub.example.com. 3600 IN AAAA 2001:db8::54",
		}},
		{"glue is not answered authoritatively", "ns1.sub.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=false",
			"NS sub.example.com. 3600 IN NS ns1.sub.example.com.",
			"NS sub.example.com. 3600 IN NS ns.example.net.",
			"AR ns1.sub.example.com. 3600 IN A 192.0.2.54",
			"AR ns1.sub.example.com. 3600 IN AAAA 2001:db8::54",
		}},
		{"DS is answered from the parent side", "sub.example.com.", dns.TypeDS, []string{
			"rcode=NOERROR aa=true",
			"AN sub.example.com. 3600 IN DS 12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118D8C6D0B3A9A0B0C0B0D0E0F0",
		}},
		{"missing DS at a delegation is NODATA from the parent", "nods.example.com.", dns.TypeDS, []string{
			"rcode=NOERROR aa=true", soa,
		}},
		{"DS below a delegation is a referral", "x.sub.example.com.", dns.TypeDS, []string{
			"rcode=NOERROR aa=false",
			"NS sub.example.com. 3600 IN NS ns1.sub.example.com.",
			"NS sub.example.com. 3600 IN NS ns.example.net.",
			"AR ns1.sub.example.com. 3600 IN A 192.0.2.54",
			"AR ns1.sub.example.com. 3600 IN AAAA 2001:db8::54",
		}},
		{"CNAME into a delegation ends with a referral", "tocut.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true",
			"AN tocut.example.com. 300 IN CNAME host.sub.example.com.",
			"NS sub.example.com. 3600 IN NS ns1.sub.example.com.",
			"NS sub.example.com. 3600 IN NS ns.example.net.",
			"AR ns1.sub.example.com. 3600 IN A 192.0.2.54",
			"AR ns1.sub.example.com. 3600 IN AAAA 2001:db8::54",
		}},
		{"the child zone answers below its apex", "www.child.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true",
			"AN www.child.example.com. 3600 IN A 192.0.2.77",
		}},
		{"the child zone answers its own SOA", "child.example.com.", dns.TypeSOA, []string{
			"rcode=NOERROR aa=true",
			"AN child.example.com. 3600 IN SOA ns1.child.example.com. hostmaster.example.com. 7 7200 3600 1209600 60",
		}},
		{"DS for a hosted child comes from the hosted parent", "child.example.com.", dns.TypeDS, []string{
			"rcode=NOERROR aa=true",
			"AN child.example.com. 3600 IN DS 54321 13 2 1111111111111111111111111111111111111111111111111111111111111111",
		}},
		{"DS at a hosted apex the hosted parent does not delegate is NODATA from the zone", "nodeleg.example.com.", dns.TypeDS, []string{
			"rcode=NOERROR aa=true",
			"NS nodeleg.example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. 3 7200 3600 1209600 30",
		}},
		{"DS at an apex whose parent is not served is NODATA from the zone", "other.test.", dns.TypeDS, []string{
			"rcode=NOERROR aa=true",
			"NS other.test. 120 IN SOA ns1.example.com. hostmaster.example.com. 9 7200 3600 1209600 120",
		}},
		{"ANY returns one RRset (RFC 8482)", "www.example.com.", dns.TypeANY, []string{
			"rcode=NOERROR aa=true",
			"AN www.example.com. 300 IN A 192.0.2.1",
			"AN www.example.com. 300 IN A 192.0.2.2",
		}},
		{"ANY at a CNAME returns the CNAME", "alias.example.com.", dns.TypeANY, []string{
			"rcode=NOERROR aa=true",
			"AN alias.example.com. 300 IN CNAME www.example.com.",
		}},
		{"ANY at an empty non-terminal is NODATA", "c.example.com.", dns.TypeANY, []string{
			"rcode=NOERROR aa=true", soa,
		}},
		{"names outside our zones are refused", "www.example.org.", dns.TypeA, []string{
			"rcode=REFUSED aa=false",
		}},
		{"the root is refused when not served", ".", dns.TypeNS, []string{
			"rcode=REFUSED aa=false",
		}},
		{"unknown types are NODATA", "www.example.com.", 65280, []string{
			"rcode=NOERROR aa=true", soa,
		}},
	}
	var a zone.Answer
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap.Lookup(&a, zonetest.WireName(t, tc.qname), tc.qtype)
			got := zonetest.Render(t, &a, tc.qname)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Lookup(%s, %s)\n got:\n  %s\nwant:\n  %s", tc.qname, dns.TypeToString[tc.qtype],
					strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestLookupAllocations(t *testing.T) {
	snap := zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom})
	var a zone.Answer
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"www.example.com.", dns.TypeA}, {"chain.example.com.", dns.TypeA}, {"nope.example.com.", dns.TypeA},
		{"x.wild.example.com.", dns.TypeA}, {"sub.example.com.", dns.TypeA},
		{"example.com.", dns.TypeNS}, {"mx.example.com.", dns.TypeMX}, {"x.wild.example.com.", dns.TypeMX},
	} {
		qn := zonetest.WireName(t, q.name)
		snap.Lookup(&a, qn, q.qtype) // grow the slices
		if n := testing.AllocsPerRun(100, func() { snap.Lookup(&a, qn, q.qtype) }); n != 0 {
			t.Errorf("Lookup(%s %s) allocates %v times per call, want 0", q.name, dns.TypeToString[q.qtype], n)
		}
	}
}
