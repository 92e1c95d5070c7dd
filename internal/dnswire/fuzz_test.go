package dnswire

import (
	"errors"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/zone"
)

// FuzzQuery feeds arbitrary packets through the query path's wire code: it
// must never panic, and every response it writes must be a well-formed
// message that miekg/dns can unpack, echoing the query's ID.
func FuzzQuery(f *testing.F) {
	for _, seed := range []func(m *dns.Msg){
		nil,
		func(m *dns.Msg) { m.SetEdns0(4096, true) },
		func(m *dns.Msg) { m.SetQuestion("x.cnamewild.example.com.", dns.TypeA) },
		func(m *dns.Msg) { m.SetQuestion("sub.example.com.", dns.TypeNS) },
		func(m *dns.Msg) { m.SetQuestion("txt.big.test.", dns.TypeTXT) },
		func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(2) },
		func(m *dns.Msg) { m.Question, m.Opcode = nil, 15 },
		func(m *dns.Msg) { m.SetQuestion("example.com.", dns.TypeMX) },
	} {
		f.Add(packQuery(f, seed))
	}
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1})
	snap := testSnapshot(f)
	var w Writer
	var a zone.Answer
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var q Query
		err := ParseQuery(pkt, &q)
		var out []byte
		var fe *FormatError
		switch {
		case errors.Is(err, ErrDrop):
			return
		case errors.As(err, &fe):
			out = w.Error(&q, fe.Rcode)
		case err != nil:
			t.Fatalf("unexpected error type %T: %v", err, err)
		case q.Opcode != dnsconst.OpcodeQuery:
			out = w.Error(&q, dnsconst.RcodeNotImp)
		default:
			snap.Lookup(&a, q.Qname, q.Qtype)
			out, _ = w.Answer(&q, &a, w.UDPLimit(&q))
			if len(out) > w.UDPLimit(&q) {
				t.Fatalf("UDP response of %d octets exceeds the limit %d", len(out), w.UDPLimit(&q))
			}
		}
		m := new(dns.Msg)
		if err := m.Unpack(out); err != nil {
			t.Fatalf("response does not unpack: %v\nquery % x\nresponse % x", err, pkt, out)
		}
		if m.Id != q.ID || !m.Response {
			t.Fatalf("response header %+v for query id %d", m.MsgHdr, q.ID)
		}
	})
}
