// Package zonetest builds zone snapshots from zone-file text for tests and
// renders lookup answers as comparable text.
package zonetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
)

// Build parses zone-file text for each origin into a snapshot.
func Build(t testing.TB, zones map[string]string) *zone.Snapshot {
	t.Helper()
	b := zone.NewBuilder(zone.Empty())
	for origin, text := range zones {
		o := model.MustName(origin)
		if err := b.CreateZone(o.Wire(), string(o), 0); err != nil {
			t.Fatal(err)
		}
		sets := map[model.Key]*model.RRset{}
		var order []model.Key
		zp := dns.NewZoneParser(strings.NewReader(text), string(o), "test")
		zp.SetDefaultTTL(3600)
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			owner := model.MustName(rr.Header().Name)
			rd, err := model.RdataFromRR(rr)
			if err != nil {
				t.Fatal(err)
			}
			k := model.Key{Name: owner, Type: rr.Header().Rrtype}
			s := sets[k]
			if s == nil {
				s = &model.RRset{Name: owner, Type: k.Type, TTL: rr.Header().Ttl}
				sets[k] = s
				order = append(order, k)
			}
			s.Add(rd)
		}
		if err := zp.Err(); err != nil {
			t.Fatal(err)
		}
		for _, k := range order {
			s := sets[k]
			if err := b.SetRRset(o.Wire(), s.Name.Wire(), s.Type, s.TTL, s.Rdata); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.Build(1)
}

// WireName converts a presentation name to wire format keeping its case.
func WireName(t testing.TB, s string) []byte {
	t.Helper()
	buf := make([]byte, 256)
	off, err := dns.PackDomainName(dns.Fqdn(s), buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:off]
}

// Render prints an answer as one line per record: section, owner, TTL,
// class, type and data, with the query name standing in for nil owners.
func Render(t testing.TB, a *zone.Answer, qname string) []string {
	t.Helper()
	var out []string
	out = append(out, fmt.Sprintf("rcode=%s aa=%v", dns.RcodeToString[a.Rcode], a.Authoritative))
	sec := func(name string, refs []zone.RRRef) {
		for _, r := range refs {
			owner := qname
			if r.Owner != nil {
				s, _, err := dns.UnpackDomainName(r.Owner, 0)
				if err != nil {
					t.Fatal(err)
				}
				owner = s
			}
			for _, rd := range r.Set.Rdata {
				hdr := dns.RR_Header{Name: owner, Rrtype: r.Set.Type, Class: dns.ClassINET, Ttl: r.TTL, Rdlength: uint16(len(rd))}
				rr, _, err := dns.UnpackRRWithHeader(hdr, rd, 0)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, name+" "+strings.Join(strings.Fields(rr.String()), " "))
			}
		}
	}
	sec("AN", a.Answer)
	sec("NS", a.Authority)
	sec("AR", a.Additional)
	return out
}
