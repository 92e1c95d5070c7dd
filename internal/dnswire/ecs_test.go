package dnswire

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

func ecsQuery(t *testing.T, family uint16, source uint8, addr string, raw []byte) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	if raw != nil {
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: 8, Data: raw})
	} else {
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: 8, Family: family, SourceNetmask: source, Address: net.ParseIP(addr)})
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseECS(t *testing.T) {
	tests := []struct {
		name   string
		msg    []byte
		addr   string
		source uint8
		err    bool
	}{
		{"IPv4 /24", ecsQuery(t, 1, 24, "198.51.100.0", nil), "198.51.100.0", 24, false},
		{"IPv6 /56", ecsQuery(t, 2, 56, "2001:db8:1:2::", nil), "2001:db8:1::", 56, false},
		{"source 0", ecsQuery(t, 1, 0, "0.0.0.0", nil), "0.0.0.0", 0, false},
		{"unknown family", nil, "", 0, true},
		{"prefix longer than the address", nil, "", 0, true},
		{"address longer than the prefix", nil, "", 0, true},
		{"bits beyond the prefix", nil, "", 0, true},
	}
	tests[3].msg = ecsQuery(t, 0, 0, "", []byte{0, 3, 8, 0, 1})
	tests[4].msg = ecsQuery(t, 0, 0, "", []byte{0, 1, 33, 0, 1, 2, 3, 4, 5})
	tests[5].msg = ecsQuery(t, 0, 0, "", []byte{0, 1, 8, 0, 10, 0})
	tests[6].msg = ecsQuery(t, 0, 0, "", []byte{0, 1, 20, 0, 198, 51, 0xFF})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var q Query
			err := ParseQuery(tc.msg, &q)
			if tc.err {
				var fe *FormatError
				if !errors.As(err, &fe) || fe.Rcode != dnsconst.RcodeFormErr {
					t.Fatalf("err = %v, want FORMERR", err)
				}
				return
			}
			if err != nil || !q.ECS || q.ECSSource != tc.source || q.ECSAddr != netip.MustParseAddr(tc.addr) {
				t.Errorf("ECS=%v %v/%d err=%v", q.ECS, q.ECSAddr, q.ECSSource, err)
			}
		})
	}
}

// TestECSEcho: the option is echoed with the source, address and family
// the client sent and the scope of the answer, written as it is also when
// it is longer than the source (the subnet was not specific enough for one
// answer, RFC 7871 section 7.2.1), not cut to the source.
func TestECSEcho(t *testing.T) {
	snap := zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom})
	tests := []struct {
		name          string
		source, scope uint8
	}{
		{"scope shorter than the source", 24, 16},
		{"scope longer than the source", 22, 24},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var q Query
			if err := ParseQuery(ecsQuery(t, 1, tc.source, "198.51.100.0", nil), &q); err != nil {
				t.Fatal(err)
			}
			var a zone.Answer
			snap.Lookup(&a, q.Qname, q.Qtype)
			q.ECSScope = tc.scope
			var w Writer
			out, _ := w.Answer(&q, &a, 1232)
			m := new(dns.Msg)
			if err := m.Unpack(out); err != nil {
				t.Fatal(err)
			}
			var ecs *dns.EDNS0_SUBNET
			for _, o := range m.IsEdns0().Option {
				if s, ok := o.(*dns.EDNS0_SUBNET); ok {
					ecs = s
				}
			}
			if ecs == nil || ecs.SourceNetmask != tc.source || ecs.SourceScope != tc.scope || !ecs.Address.Equal(net.ParseIP("198.51.100.0")) || ecs.Family != 1 {
				t.Errorf("echoed option: %+v, want source %d scope %d", ecs, tc.source, tc.scope)
			}
		})
	}
}
