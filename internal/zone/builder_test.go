package zone_test

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

func TestBuilderKeepsBaseUnchanged(t *testing.T) {
	base := zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom})
	origin := model.MustName("example.com.").Wire()
	b := zone.NewBuilder(base)
	www := model.MustName("www.example.com.").Wire()
	if err := b.SetRRset(origin, www, dns.TypeA, 60, [][]byte{{203, 0, 113, 9}}); err != nil {
		t.Fatal(err)
	}
	next := b.Build(2)

	var a zone.Answer
	base.Lookup(&a, www, dns.TypeA)
	if got := zonetest.Render(t, &a, "www.example.com."); len(got) != 3 {
		t.Errorf("base snapshot changed: %v", got)
	}
	next.Lookup(&a, www, dns.TypeA)
	want := []string{"rcode=NOERROR aa=true", "AN www.example.com. 60 IN A 203.0.113.9"}
	if got := zonetest.Render(t, &a, "www.example.com."); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("next snapshot: got %v, want %v", got, want)
	}
	if next.Revision() != 2 || base.Revision() != 1 {
		t.Errorf("revisions: base %d next %d", base.Revision(), next.Revision())
	}
}

func TestBuilderEmptyNonTerminals(t *testing.T) {
	base := zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom})
	origin := model.MustName("example.com.").Wire()
	deep := model.MustName("a.b.c.example.com.").Wire()
	c := model.MustName("c.example.com.").Wire()

	b := zone.NewBuilder(base)
	if err := b.SetRRset(origin, deep, dns.TypeTXT, 0, nil); err != nil {
		t.Fatal(err)
	}
	s := b.Build(2)
	var a zone.Answer
	s.Lookup(&a, c, dns.TypeA)
	if a.Rcode != dnsconst.RcodeNXDomain {
		t.Errorf("after deleting the only name below it, c.example.com. should be NXDOMAIN, got rcode %d", a.Rcode)
	}
	z := s.Zone(origin)
	for _, n := range []string{"b.c.example.com.", "c.example.com."} {
		if z.Node(model.MustName(n).Wire()) != nil {
			t.Errorf("empty non-terminal %s left behind", n)
		}
	}
	if z.Len() != base.Zone(origin).Len()-3 {
		t.Errorf("node count %d, want %d", z.Len(), base.Zone(origin).Len()-3)
	}

	// Re-adding recreates the empty non-terminals; a name with data stays.
	b = zone.NewBuilder(s)
	if err := b.SetRRset(origin, deep, dns.TypeTXT, 60, [][]byte{{2, 'h', 'i'}}); err != nil {
		t.Fatal(err)
	}
	s = b.Build(3)
	s.Lookup(&a, c, dns.TypeA)
	if a.Rcode != dnsconst.RcodeSuccess || len(a.Answer) != 0 {
		t.Errorf("c.example.com. should be an empty non-terminal again: rcode %d, %d answers", a.Rcode, len(a.Answer))
	}
}

func TestBuilderRejectsBadInput(t *testing.T) {
	base := zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom})
	b := zone.NewBuilder(base)
	origin := model.MustName("example.com.").Wire()
	if err := b.SetRRset(origin, model.MustName("www.example.org.").Wire(), dns.TypeA, 1, [][]byte{{1, 2, 3, 4}}); err == nil {
		t.Error("owner outside the zone accepted")
	}
	if err := b.SetRRset(model.MustName("nozone.test.").Wire(), model.MustName("nozone.test.").Wire(), dns.TypeA, 1, [][]byte{{1, 2, 3, 4}}); err == nil {
		t.Error("missing zone accepted")
	}
	if err := b.SetRRset(origin, zonetest.WireName(t, "WWW.example.com."), dns.TypeA, 1, [][]byte{{1, 2, 3, 4}}); err == nil {
		t.Error("upper-case owner accepted")
	}
	if err := b.CreateZone(zonetest.WireName(t, "Example.NET."), "Example.NET.", 0); err == nil {
		t.Error("upper-case origin accepted")
	}
}

func TestBuilderGrowsShards(t *testing.T) {
	b := zone.NewBuilder(zone.Empty())
	origin := model.MustName("big.test.").Wire()
	if err := b.CreateZone(origin, "big.test.", 0); err != nil {
		t.Fatal(err)
	}
	soa, err := model.ParseRdata(dns.TypeSOA, "ns.big.test. h.big.test. 1 2 3 4 5")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetRRset(origin, origin, dns.TypeSOA, 60, [][]byte{soa}); err != nil {
		t.Fatal(err)
	}
	const n = 20000
	for i := range n {
		name := model.MustName(fmt.Sprintf("h%d.big.test.", i)).Wire()
		if err := b.SetRRset(origin, name, dns.TypeA, 60, [][]byte{{10, 0, byte(i >> 8), byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	s := b.Build(1)
	z := s.Zone(origin)
	if z.Len() != n+1 {
		t.Fatalf("Len = %d, want %d", z.Len(), n+1)
	}
	if zone.ShardCount(z) < n/zone.ShardMax {
		t.Errorf("%d shards for %d names", zone.ShardCount(z), n)
	}
	var a zone.Answer
	for _, i := range []int{0, 1234, n - 1} {
		s.Lookup(&a, model.MustName(fmt.Sprintf("h%d.big.test.", i)).Wire(), dns.TypeA)
		if len(a.Answer) != 1 {
			t.Errorf("h%d not found after growth", i)
		}
	}
}
