package model

import (
	"strconv"
	"strings"
	"testing"
)

func rr(t *testing.T, name, typ string, data ...string) *RRset {
	t.Helper()
	ty, err := ParseType(typ)
	if err != nil {
		t.Fatal(err)
	}
	s := &RRset{Name: MustName(name), Type: ty, TTL: 300}
	for _, d := range data {
		rd, err := ParseRdata(ty, d)
		if err != nil {
			t.Fatal(err)
		}
		s.Add(rd)
	}
	return s
}

func TestCheckNode(t *testing.T) {
	z := MustName("example.com.")
	soa := rr(t, "example.com.", "SOA", "ns.example.com. h.example.com. 1 2 3 4 5")
	ns := rr(t, "example.com.", "NS", "ns.example.com.")
	ds := "1 13 2 1111111111111111111111111111111111111111111111111111111111111111"
	tests := []struct {
		name string
		at   string
		sets []*RRset
		err  string
	}{
		{"valid apex", "example.com.", []*RRset{soa, ns}, ""},
		{"apex without NS", "example.com.", []*RRset{soa}, "at least one NS"},
		{"apex without SOA", "example.com.", []*RRset{ns}, "SOA"},
		{"CNAME alone", "www.example.com.", []*RRset{rr(t, "www.example.com.", "CNAME", "x.example.net.")}, ""},
		{"CNAME and A", "www.example.com.", []*RRset{rr(t, "www.example.com.", "CNAME", "x.example.net."), rr(t, "www.example.com.", "A", "192.0.2.1")}, "cannot have A records"},
		{"SOA below apex", "www.example.com.", []*RRset{rr(t, "www.example.com.", "SOA", "a.example. b.example. 1 2 3 4 5")}, "only at the zone apex"},
		{"DS with NS", "sub.example.com.", []*RRset{rr(t, "sub.example.com.", "NS", "ns.example.net."), rr(t, "sub.example.com.", "DS", ds)}, ""},
		{"DS without NS", "sub.example.com.", []*RRset{rr(t, "sub.example.com.", "DS", ds)}, "delegation point"},
		{"NS at a wildcard", "*.example.com.", []*RRset{rr(t, "*.example.com.", "NS", "ns.example.net.")}, "wildcard"},
		{"outside the zone", "www.example.org.", nil, "not in zone"},
	}
	for _, tc := range tests {
		err := CheckNode(z, MustName(tc.at), tc.sets)
		if tc.err == "" && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.name, err, tc.err)
		}
	}
}

func TestChangeApply(t *testing.T) {
	a1, _ := ParseRdata(TypeA, "192.0.2.1")
	a2, _ := ParseRdata(TypeA, "192.0.2.2")
	cur := &RRset{Name: "w.example.", Type: TypeA, TTL: 60, Rdata: [][]byte{a1}}
	tests := []struct {
		name string
		c    Change
		cur  *RRset
		want string // "<ttl> <n records>" or "nil" or an error substring
	}{
		{"add to nothing uses the default TTL", Change{Op: OpAdd, Rdata: [][]byte{a1}}, nil, "300 1"},
		{"add keeps the TTL", Change{Op: OpAdd, Rdata: [][]byte{a2}}, cur, "60 2"},
		{"add of a present record", Change{Op: OpAdd, Rdata: [][]byte{a1}}, cur, "60 1"},
		{"add with another TTL", Change{Op: OpAdd, TTL: 30, HasTTL: true, Rdata: [][]byte{a2}}, cur, "differs"},
		{"set replaces", Change{Op: OpSet, TTL: 30, HasTTL: true, Rdata: [][]byte{a2, a2}}, cur, "30 1"},
		{"set without a TTL keeps the set's", Change{Op: OpSet, Rdata: [][]byte{a2}}, cur, "60 1"},
		{"set of a new set uses the default", Change{Op: OpSet, Rdata: [][]byte{a2}}, nil, "300 1"},
		{"set needs records", Change{Op: OpSet}, cur, "at least one"},
		{"delete one", Change{Op: OpDelete, Rdata: [][]byte{a1}}, &RRset{Name: "w.example.", Type: TypeA, TTL: 60, Rdata: [][]byte{a1, a2}}, "60 1"},
		{"delete the last", Change{Op: OpDelete, Rdata: [][]byte{a1}}, cur, "nil"},
		{"delete all", Change{Op: OpDelete}, cur, "nil"},
		{"delete from nothing", Change{Op: OpDelete}, nil, "nil"},
		{"TTL too large", Change{Op: OpSet, TTL: MaxTTL + 1, HasTTL: true, Rdata: [][]byte{a1}}, nil, "maximum TTL"},
	}
	for _, tc := range tests {
		tc.c.Name, tc.c.Type = "w.example.", TypeA
		got, err := tc.c.Apply(tc.cur, 300)
		var s string
		switch {
		case err != nil:
			s = err.Error()
		case got == nil:
			s = "nil"
		default:
			s = strings.Join([]string{itoa(got.TTL), itoa(uint32(len(got.Rdata)))}, " ")
		}
		if !strings.Contains(s, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, s, tc.want)
		}
	}
	if len(cur.Rdata) != 1 {
		t.Error("Apply modified its input")
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
