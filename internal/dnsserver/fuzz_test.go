package dnsserver

import (
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// FuzzHandler runs arbitrary packets through the whole query handler, over
// UDP and TCP rules: it must never panic; every reply must unpack, echo the
// query ID and fit the transport (the requester's UDP size); packets that
// are not queries (QR set, shorter than a header) must get no reply.
func FuzzHandler(f *testing.F) {
	for _, seed := range []func(m *dns.Msg){
		func(m *dns.Msg) { m.SetQuestion("www.example.com.", dns.TypeA) },
		func(m *dns.Msg) { m.SetQuestion("chain.example.com.", dns.TypeAAAA); m.SetEdns0(4096, true) },
		func(m *dns.Msg) { m.SetQuestion("host.sub.example.com.", dns.TypeA) },
		func(m *dns.Msg) { m.SetQuestion("x.wild.example.com.", dns.TypeMX) },
		func(m *dns.Msg) { m.SetQuestion("txt.big.test.", dns.TypeTXT) },
		func(m *dns.Msg) { m.SetQuestion("example.com.", dns.TypeAXFR) },
		func(m *dns.Msg) { m.SetQuestion("example.com.", dns.TypeSOA); m.Opcode = dns.OpcodeUpdate },
		func(m *dns.Msg) { m.Opcode = 15; m.SetEdns0(1232, false) },
		func(m *dns.Msg) { m.SetQuestion("mx.example.com.", dns.TypeMX) },
	} {
		m := new(dns.Msg)
		seed(m)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(f, map[string]string{"example.com.": zonetest.ExampleCom, "big.test.": bigZone()}))
	h := newHandler(&src, nil, 1232, false)
	f.Fuzz(func(t *testing.T, pkt []byte, tcp bool) {
		resp := h.serve(pkt, loopback, tcp)
		isQuery := len(pkt) >= 12 && pkt[2]&0x80 == 0
		if resp == nil {
			return
		}
		if !isQuery {
			t.Fatalf("replied to a packet that is not a query: % x", pkt)
		}
		m := new(dns.Msg)
		if err := m.Unpack(resp); err != nil {
			t.Fatalf("reply does not unpack: %v\nquery % x\nreply % x", err, pkt, resp)
		}
		if m.Id != uint16(pkt[0])<<8|uint16(pkt[1]) || !m.Response {
			t.Fatalf("reply header %+v", m.MsgHdr)
		}
		if limit := h.w.UDPLimit(&h.q); !tcp && len(resp) > limit {
			t.Fatalf("UDP reply of %d octets, the limit is %d", len(resp), limit)
		}
	})
}
