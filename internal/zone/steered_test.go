package zone_test

import (
	"slices"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// tableSteering answers steered names from a table of RRsets by owner and
// type; owners it lacks are not steered.
type tableSteering map[string]map[uint16]*zone.RRset

func (t tableSteering) Steer(owner string, qtype uint16, c *zone.Client) (*zone.RRset, int) {
	sets, ok := t[owner]
	if !ok {
		return nil, zone.NotSteered
	}
	if set := sets[dns.TypeCNAME]; set != nil {
		return set, dnsconst.RcodeSuccess
	}
	if qtype == dns.TypeANY {
		if set := sets[dns.TypeA]; set != nil {
			return set, dnsconst.RcodeSuccess
		}
		return sets[dns.TypeAAAA], dnsconst.RcodeSuccess
	}
	return sets[qtype], dnsconst.RcodeSuccess
}

func rdata(t *testing.T, typ uint16, text string) []byte {
	t.Helper()
	rd, err := model.ParseRdata(typ, text)
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func TestSteeredLookup(t *testing.T) {
	b := zone.NewBuilder(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	origin := model.MustName("example.com.").Wire()
	steered := []string{"v6only.example.com.", "gone.example.com.", "loop-a.example.com.", "loop-b.example.com."}
	for _, n := range steered {
		if err := b.SetSteered(origin, model.MustName(n).Wire(), true); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SetRRset(origin, model.MustName("gone.example.com.").Wire(), dns.TypeTXT, 60, [][]byte{rdata(t, dns.TypeTXT, `"static"`)}); err != nil {
		t.Fatal(err)
	}
	// Static addresses beside a service (which the write path refuses) would
	// not be what a client is given: additional data never takes them.
	if err := b.SetRRset(origin, model.MustName("v6only.example.com.").Wire(), dns.TypeA, 60, [][]byte{rdata(t, dns.TypeA, "192.0.2.66")}); err != nil {
		t.Fatal(err)
	}
	mx := [][]byte{rdata(t, dns.TypeMX, "10 v6only.example.com."), rdata(t, dns.TypeMX, "20 www.example.com.")}
	if err := b.SetRRset(origin, model.MustName("mx.example.com.").Wire(), dns.TypeMX, 60, mx); err != nil {
		t.Fatal(err)
	}
	snap := b.Build(2)
	key := func(n string) string { return string(model.MustName(n).Wire()) }
	st := tableSteering{
		key("v6only.example.com."): {dns.TypeAAAA: {Type: dns.TypeAAAA, TTL: 30, Rdata: [][]byte{rdata(t, dns.TypeAAAA, "2001:db8::7")}}},
		key("loop-a.example.com."): {dns.TypeCNAME: {Type: dns.TypeCNAME, TTL: 30, Rdata: [][]byte{model.MustName("loop-b.example.com.").Wire()}}},
		key("loop-b.example.com."): {dns.TypeCNAME: {Type: dns.TypeCNAME, TTL: 30, Rdata: [][]byte{model.MustName("loop-a.example.com.").Wire()}}},
	}
	soa := "NS example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"
	tests := []struct {
		name  string
		qname string
		qtype uint16
		want  []string
	}{
		{"ANY answers AAAA when there is no A", "v6only.example.com.", dns.TypeANY, []string{
			"rcode=NOERROR aa=true", "AN v6only.example.com. 30 IN AAAA 2001:db8::7",
		}},
		{"A at an IPv6-only service is NODATA", "v6only.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true", soa,
		}},
		{"a name steering does not know is answered from the zone", "gone.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true", soa,
		}},
		{"a name steering does not know keeps its other records", "gone.example.com.", dns.TypeANY, []string{
			"rcode=NOERROR aa=true", `AN gone.example.com. 60 IN TXT "static"`,
		}},
		{"a loop of steered CNAMEs stops where it repeats", "loop-a.example.com.", dns.TypeA, []string{
			"rcode=NOERROR aa=true",
			"AN loop-a.example.com. 30 IN CNAME loop-b.example.com.",
			"AN loop-b.example.com. 30 IN CNAME loop-a.example.com.",
		}},
		{"a steered MX target gets no additional data: its answer depends on the client", "mx.example.com.", dns.TypeMX, []string{
			"rcode=NOERROR aa=true",
			"AN mx.example.com. 60 IN MX 10 v6only.example.com.",
			"AN mx.example.com. 60 IN MX 20 www.example.com.",
			"AR www.example.com. 300 IN A 192.0.2.1",
			"AR www.example.com. 300 IN A 192.0.2.2",
			"AR www.example.com. 300 IN AAAA 2001:db8::1",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a zone.Answer
			req := &zone.Request{Steering: st}
			snap.LookupFor(&a, zonetest.WireName(t, tc.qname), tc.qtype, req)
			if got := zonetest.Render(t, &a, tc.qname); !slices.Equal(got, tc.want) {
				t.Errorf("got\n%v\nwant\n%v", got, tc.want)
			}
		})
	}
}
