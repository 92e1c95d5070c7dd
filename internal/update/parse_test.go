package update

import (
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
)

func rr(t *testing.T, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// emptyRR is a record with no data, as prerequisites and deletes carry.
func emptyRR(name string, class, typ uint16) dns.RR {
	return &dns.ANY{Hdr: dns.RR_Header{Name: name, Rrtype: typ, Class: class}}
}

func TestParse(t *testing.T) {
	m := new(dns.Msg)
	m.SetUpdate("example.com.")
	m.Answer = []dns.RR{
		emptyRR("a.example.com.", dns.ClassANY, dns.TypeANY),
		emptyRR("b.example.com.", dns.ClassNONE, dns.TypeANY),
		emptyRR("c.example.com.", dns.ClassANY, dns.TypeA),
		emptyRR("d.example.com.", dns.ClassNONE, dns.TypeA),
		rr(t, "e.example.com. 0 IN A 192.0.2.1"),
		rr(t, "e.example.com. 0 IN A 192.0.2.2"),
	}
	m.Ns = []dns.RR{
		rr(t, "f.example.com. 60 IN A 192.0.2.3"),
		emptyRR("g.example.com.", dns.ClassANY, dns.TypeA),
		emptyRR("h.example.com.", dns.ClassANY, dns.TypeANY),
		&dns.A{Hdr: dns.RR_Header{Name: "i.example.com.", Rrtype: dns.TypeA, Class: dns.ClassNONE}, A: []byte{192, 0, 2, 4}},
	}
	b, _ := m.Pack()
	m2 := new(dns.Msg)
	if err := m2.Unpack(b); err != nil {
		t.Fatal(err)
	}
	r, err := Parse(m2)
	if err != nil {
		t.Fatal(err)
	}
	wantP := []control.PrereqKind{control.NameInUse, control.NameNotInUse, control.RRsetExists, control.RRsetNotExists, control.RRsetEquals}
	if len(r.Prereqs) != len(wantP) {
		t.Fatalf("prereqs %+v", r.Prereqs)
	}
	for i, k := range wantP {
		if r.Prereqs[i].Kind != k {
			t.Errorf("prereq %d: %v, want %v", i, r.Prereqs[i].Kind, k)
		}
	}
	if s := r.Prereqs[4].Set; s == nil || len(s.Rdata) != 2 || s.Name != "e.example.com." {
		t.Errorf("value-dependent prerequisite %+v", s)
	}
	wantO := []control.UpdateOpKind{control.AddRR, control.DeleteRRset, control.DeleteName, control.DeleteRR}
	if len(r.Ops) != len(wantO) {
		t.Fatalf("ops %+v", r.Ops)
	}
	for i, k := range wantO {
		if r.Ops[i].Kind != k {
			t.Errorf("op %d: %v, want %v", i, r.Ops[i].Kind, k)
		}
	}
	if r.Ops[0].TTL != 60 || len(r.Ops[0].Rdata) != 4 || len(r.Ops[3].Rdata) != 4 {
		t.Errorf("ops %+v", r.Ops)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(m *dns.Msg)
		rcode int
	}{
		{"two zones", func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }, dns.RcodeFormatError},
		{"zone not SOA", func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeA }, dns.RcodeFormatError},
		{"prereq with TTL", func(m *dns.Msg) { m.Answer = []dns.RR{rr(t, "a.example.com. 5 IN A 192.0.2.1")} }, dns.RcodeFormatError},
		{"prereq outside the zone", func(m *dns.Msg) { m.Answer = []dns.RR{emptyRR("a.example.net.", dns.ClassANY, dns.TypeANY)} }, dns.RcodeNotZone},
		{"prereq of class CH", func(m *dns.Msg) { m.Answer = []dns.RR{emptyRR("a.example.com.", dns.ClassCHAOS, dns.TypeA)} }, dns.RcodeFormatError},
		{"add of type ANY", func(m *dns.Msg) { m.Ns = []dns.RR{emptyRR("a.example.com.", dns.ClassINET, dns.TypeANY)} }, dns.RcodeFormatError},
		{"add outside the zone", func(m *dns.Msg) { m.Ns = []dns.RR{rr(t, "a.example.net. 60 IN A 192.0.2.1")} }, dns.RcodeNotZone},
		{"delete with TTL", func(m *dns.Msg) {
			r := emptyRR("a.example.com.", dns.ClassANY, dns.TypeA)
			r.Header().Ttl = 5
			m.Ns = []dns.RR{r}
		}, dns.RcodeFormatError},
		{"delete of AXFR", func(m *dns.Msg) { m.Ns = []dns.RR{emptyRR("a.example.com.", dns.ClassANY, dns.TypeAXFR)} }, dns.RcodeFormatError},
		{"update of class CH", func(m *dns.Msg) { m.Ns = []dns.RR{emptyRR("a.example.com.", dns.ClassCHAOS, dns.TypeA)} }, dns.RcodeFormatError},
	} {
		m := new(dns.Msg)
		m.SetUpdate("example.com.")
		tc.build(m)
		b, err := m.Pack()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		m2 := new(dns.Msg)
		if err := m2.Unpack(b); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err = Parse(m2)
		pe, ok := err.(*Error)
		if !ok || pe.Rcode != tc.rcode {
			t.Errorf("%s: %v, want %s", tc.name, err, dns.RcodeToString[tc.rcode])
		}
	}
}

// FuzzParse: no UPDATE message makes Parse panic, and what it accepts has
// every name inside the zone.
func FuzzParse(f *testing.F) {
	m := new(dns.Msg)
	m.SetUpdate("example.com.")
	m.Insert([]dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "a.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: []byte{192, 0, 2, 1}}})
	m.NameNotUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: "b.example.com."}}})
	b, _ := m.Pack()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if m.Unpack(b) != nil {
			return
		}
		r, err := Parse(m)
		if err != nil {
			return
		}
		for _, p := range r.Prereqs {
			if !p.Name.IsSubdomainOf(r.Zone) {
				t.Fatalf("prerequisite on %s outside %s", p.Name, r.Zone)
			}
		}
		for _, o := range r.Ops {
			if !o.Name.IsSubdomainOf(r.Zone) {
				t.Fatalf("operation on %s outside %s", o.Name, r.Zone)
			}
		}
	})
}
