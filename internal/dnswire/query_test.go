package dnswire

import (
	"errors"
	"testing"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/internal/dnsconst"
)

func packQuery(t testing.TB, edit func(m *dns.Msg)) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("Www.Example.com.", dns.TypeA)
	if edit != nil {
		edit(m)
	}
	m.Id = 0xBEEF
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name    string
		msg     []byte
		drop    bool
		rcode   int // expected FormatError rcode, 0 for success
		check   func(t *testing.T, q *Query)
		hasQues bool
	}{
		{name: "plain query", msg: packQuery(t, nil), hasQues: true, check: func(t *testing.T, q *Query) {
			if q.ID != 0xBEEF || !q.RD || q.Qtype != dns.TypeA || q.Qclass != dns.ClassINET || q.EDNS {
				t.Errorf("got %+v", q)
			}
			if string(q.Qname) != "\x03Www\x07Example\x03com\x00" {
				t.Errorf("qname %q", q.Qname)
			}
		}},
		{name: "EDNS with DO", msg: packQuery(t, func(m *dns.Msg) { m.SetEdns0(4096, true) }), hasQues: true, check: func(t *testing.T, q *Query) {
			if !q.EDNS || !q.DO || q.UDPSize != 4096 || q.EDNSVersion != 0 {
				t.Errorf("got %+v", q)
			}
		}},
		{name: "small EDNS size is raised to 512", msg: packQuery(t, func(m *dns.Msg) { m.SetEdns0(100, false) }), hasQues: true, check: func(t *testing.T, q *Query) {
			if q.UDPSize != 512 {
				t.Errorf("UDPSize %d", q.UDPSize)
			}
		}},
		{name: "EDNS option is accepted", msg: packQuery(t, func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
		}), hasQues: true},
		{name: "EDNS version 1 is BADVERS", msg: packQuery(t, func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }), rcode: dnsconst.RcodeBadVers, hasQues: true},
		{name: "two OPT records", msg: packQuery(t, func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.Extra = append(m.Extra, m.Extra[0])
		}), rcode: dnsconst.RcodeFormErr, hasQues: true},
		{name: "OPT owner not root", msg: packQuery(t, func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.Extra[0].Header().Name = "example.com."
		}), rcode: dnsconst.RcodeFormErr, hasQues: true},
		{name: "header-only query is FORMERR", msg: packQuery(t, func(m *dns.Msg) { m.Question = nil }), rcode: dnsconst.RcodeFormErr},
		{name: "junk announcing a question that is not there is dropped", msg: []byte{0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, drop: true},
		{name: "random bytes are dropped", msg: []byte("\xBE\xEF\x13\x37 this is not a DNS message at all"), drop: true},
		{name: "two questions", msg: packQuery(t, func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), rcode: dnsconst.RcodeFormErr},
		{name: "query with an answer", msg: packQuery(t, func(m *dns.Msg) {
			rr, _ := dns.NewRR("www.example.com. 1 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		}), rcode: dnsconst.RcodeFormErr, hasQues: true},
		{name: "response is dropped", msg: packQuery(t, func(m *dns.Msg) { m.Response = true }), drop: true},
		{name: "short packet is dropped", msg: []byte{1, 2, 3}, drop: true},
		{name: "empty packet is dropped", msg: nil, drop: true},
		{name: "question truncated is dropped", msg: packQuery(t, nil)[:20], drop: true},
		{name: "compressed question name is dropped", msg: []byte{0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1}, drop: true},
		{name: "OPT after an unreadable question is never reached: dropped", msg: []byte{0xBE, 0xEF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0xC0, 12, 0, 1, 0, 1, 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0}, drop: true},
		{name: "OPT option overruns", msg: func() []byte {
			b := packQuery(t, func(m *dns.Msg) { m.SetEdns0(1232, false) })
			// rdlength 4 with an option claiming 9 octets.
			b[len(b)-2] = 0
			b[len(b)-1] = 4
			return append(b, 0, 10, 0, 9)
		}(), rcode: dnsconst.RcodeFormErr, hasQues: true},
		{name: "additional record truncated", msg: packQuery(t, func(m *dns.Msg) { m.SetEdns0(1232, false) })[:40], rcode: dnsconst.RcodeFormErr, hasQues: true},
		{name: "IXFR with an SOA in authority is a query", msg: packQuery(t, func(m *dns.Msg) {
			m.SetIxfr("example.com.", 7, "ns.example.com.", "h.example.com.")
			m.SetEdns0(1232, false)
		}), hasQues: true, check: func(t *testing.T, q *Query) {
			if q.Qtype != dns.TypeIXFR || !q.EDNS {
				t.Errorf("got %+v", q)
			}
		}},
		{name: "no question but EDNS keeps the EDNS", msg: packQuery(t, func(m *dns.Msg) { m.Question = nil; m.SetEdns0(1232, true) }), rcode: dnsconst.RcodeFormErr, check: func(t *testing.T, q *Query) {
			if !q.EDNS || !q.DO {
				t.Errorf("EDNS lost on FORMERR: %+v", q)
			}
		}},
		{name: "two questions but EDNS keeps the EDNS", msg: packQuery(t, func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]); m.SetEdns0(1232, false) }), rcode: dnsconst.RcodeFormErr, check: func(t *testing.T, q *Query) {
			if !q.EDNS {
				t.Errorf("EDNS lost on FORMERR: %+v", q)
			}
		}},
		{name: "an opcode not implemented needs no question", msg: packQuery(t, func(m *dns.Msg) { m.Question, m.Opcode = nil, 15; m.SetEdns0(1232, false) }), check: func(t *testing.T, q *Query) {
			if q.Opcode != 15 || !q.EDNS {
				t.Errorf("got %+v", q)
			}
		}},
		{name: "an opcode not implemented with two questions echoes none", msg: packQuery(t, func(m *dns.Msg) { m.Question, m.Opcode = append(m.Question, m.Question[0]), 3 })},
		{name: "NOTIFY without a question is FORMERR", msg: packQuery(t, func(m *dns.Msg) { m.Question, m.Opcode = nil, dns.OpcodeNotify }), rcode: dnsconst.RcodeFormErr},
		{name: "UPDATE without a zone is FORMERR", msg: packQuery(t, func(m *dns.Msg) { m.Question, m.Opcode = nil, dns.OpcodeUpdate }), rcode: dnsconst.RcodeFormErr},
		{name: "NOTIFY is parsed", msg: packQuery(t, func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }), hasQues: true, check: func(t *testing.T, q *Query) {
			if q.Opcode != dnsconst.OpcodeNotify {
				t.Errorf("opcode %d", q.Opcode)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var q Query
			err := ParseQuery(tc.msg, &q)
			switch {
			case tc.drop:
				if !errors.Is(err, ErrDrop) {
					t.Fatalf("err = %v, want ErrDrop", err)
				}
				return
			case tc.rcode != 0:
				var fe *FormatError
				if !errors.As(err, &fe) || fe.Rcode != tc.rcode {
					t.Fatalf("err = %v, want FormatError with rcode %d", err, tc.rcode)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			}
			if q.HasQuestion != tc.hasQues {
				t.Errorf("HasQuestion = %v, want %v", q.HasQuestion, tc.hasQues)
			}
			if q.ID != 0xBEEF {
				t.Errorf("ID = %#x", q.ID)
			}
			if tc.check != nil {
				tc.check(t, &q)
			}
		})
	}
}
