package dnswire

import (
	"encoding/hex"
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
		func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "2464c4abcf10c957"})
		},
		func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option,
				&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "2464c4abcf10c957010000005cf79f111f8130c3eee29480"},
				&dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		},
		func(m *dns.Msg) {
			m.Question = nil
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "2464c4abcf10c957"})
		},
		func(m *dns.Msg) {
			m.SetQuestion("id.server.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			m.SetEdns0(512, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		},
	} {
		f.Add(packQuery(f, seed))
	}
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1})
	snap := testSnapshot(f)
	w := Writer{NSID: []byte("ns1.example.net")}
	var a zone.Answer
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var q Query
		err := ParseQuery(pkt, &q)
		if q.Cookie {
			q.SendCookie = true
			copy(q.NewServerCookie[:], "server cookie 16")
		}
		var out []byte
		var fe *FormatError
		switch {
		case errors.Is(err, ErrDrop):
			return
		case errors.As(err, &fe) && q.CookieQuery:
			out = w.Error(&q, dnsconst.RcodeBadCookie)
		case errors.As(err, &fe):
			out = w.Error(&q, fe.Rcode)
		case err != nil:
			t.Fatalf("unexpected error type %T: %v", err, err)
		case q.Opcode != dnsconst.OpcodeQuery:
			out = w.Error(&q, dnsconst.RcodeNotImp)
		case q.Qclass == dnsconst.ClassCHAOS:
			out = w.TXT(&q, q.Qname, w.UDPLimit(&q))
			if len(out) > w.UDPLimit(&q) {
				t.Fatalf("UDP response of %d octets exceeds the limit %d", len(out), w.UDPLimit(&q))
			}
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
		// A well-formed cookie is answered with the client cookie and
		// the server cookie made for it; NSID with the identity.
		if o := m.IsEdns0(); o != nil {
			var cookie, nsid bool
			for _, opt := range o.Option {
				switch opt := opt.(type) {
				case *dns.EDNS0_COOKIE:
					cookie = opt.Cookie == hex.EncodeToString(q.ClientCookie[:])+hex.EncodeToString(q.NewServerCookie[:])
				case *dns.EDNS0_NSID:
					nsid = opt.Nsid == hex.EncodeToString(w.NSID)
				}
			}
			if cookie != q.Cookie || nsid != q.NSID {
				t.Fatalf("cookie answered %v (asked %v), NSID answered %v (asked %v)\nquery % x\nresponse % x", cookie, q.Cookie, nsid, q.NSID, pkt, out)
			}
		}
	})
}
