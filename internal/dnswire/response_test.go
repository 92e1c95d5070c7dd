package dnswire

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

func testSnapshot(t testing.TB) *zone.Snapshot {
	return zonetest.Build(t, map[string]string{
		"example.com.":       zonetest.ExampleCom,
		"child.example.com.": zonetest.ChildExampleCom,
		"other.test.":        zonetest.OtherTest,
		"big.test.": `
@ SOA ns.big.test. h.big.test. 1 2 3 4 5
@ NS ns.big.test.
ns A 192.0.2.1
` + func() string {
			var b strings.Builder
			for i := range 60 {
				fmt.Fprintf(&b, "txt TXT \"record number %d padded to take some room in the message\"\n", i)
			}
			return b.String()
		}(),
	})
}

// respond runs one query through ParseQuery, Lookup and Writer.Answer and
// returns the response as miekg/dns sees it.
func respond(t *testing.T, snap *zone.Snapshot, query *dns.Msg, limit int) (*dns.Msg, []byte) {
	t.Helper()
	b, err := query.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var q Query
	if err := ParseQuery(b, &q); err != nil {
		t.Fatal(err)
	}
	var a zone.Answer
	snap.Lookup(&a, q.Qname, q.Qtype)
	var w Writer
	out, _ := w.Answer(&q, &a, limit)
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil {
		t.Fatalf("our response does not unpack: %v", err)
	}
	return m, append([]byte(nil), out...)
}

func sectionStrings(m *dns.Msg) []string {
	out := []string{fmt.Sprintf("rcode=%s aa=%v", dns.RcodeToString[m.Rcode], m.Authoritative)}
	add := func(p string, rrs []dns.RR) {
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			out = append(out, p+" "+strings.Join(strings.Fields(rr.String()), " "))
		}
	}
	add("AN", m.Answer)
	add("NS", m.Ns)
	add("AR", m.Extra)
	return out
}

func TestAnswerMatchesLookup(t *testing.T) {
	snap := testSnapshot(t)
	queries := []struct {
		name  string
		qtype uint16
	}{
		{"WWW.example.COM.", dns.TypeA},
		{"chain.example.com.", dns.TypeAAAA},
		{"nope.example.com.", dns.TypeA},
		{"Host.Sub.Example.Com.", dns.TypeA},
		{"x.cnamewild.example.com.", dns.TypeA},
		{"example.com.", dns.TypeSOA},
		{"example.com.", dns.TypeNS},
		{"host.wild.example.com.", dns.TypeMX},
		{"other.example.com.", dns.TypeA},
		{"child.example.com.", dns.TypeDS},
		{"tocut.example.com.", dns.TypeA},
	}
	for _, tq := range queries {
		t.Run(tq.name+"/"+dns.TypeToString[tq.qtype], func(t *testing.T) {
			query := new(dns.Msg)
			query.SetQuestion(tq.name, tq.qtype)
			m, _ := respond(t, snap, query, dnsconst.MaxMessageSize)
			var a zone.Answer
			snap.Lookup(&a, zonetest.WireName(t, tq.name), tq.qtype)
			want := zonetest.Render(t, &a, tq.name)
			// Names are compressed case-insensitively (RFC 1035 section
			// 4.1.4 allows it: names compare without case), so a name in
			// the data may take the case of the question.
			if got := sectionStrings(m); !strings.EqualFold(strings.Join(got, "\n"), strings.Join(want, "\n")) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if m.Id != query.Id || !m.Response || m.Opcode != dns.OpcodeQuery || !m.RecursionDesired || m.RecursionAvailable {
				t.Errorf("header: %+v", m.MsgHdr)
			}
			if len(m.Question) != 1 || m.Question[0].Name != tq.name || m.Question[0].Qtype != tq.qtype {
				t.Errorf("question not echoed exactly: %v", m.Question)
			}
		})
	}
}

func TestAnswerCompressesNames(t *testing.T) {
	snap := testSnapshot(t)
	query := new(dns.Msg)
	query.SetQuestion("sub.example.com.", dns.TypeA)
	m, raw := respond(t, snap, query, dnsconst.MaxMessageSize)
	m.Compress = false
	uncompressed, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	m.Compress = true
	best, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) >= len(uncompressed) {
		t.Errorf("response is %d octets, uncompressed it would be %d", len(raw), len(uncompressed))
	}
	if len(raw) > len(best) {
		t.Errorf("response is %d octets, miekg/dns compresses it to %d", len(raw), len(best))
	}
}

func TestAnswerTruncatesOverUDP(t *testing.T) {
	snap := testSnapshot(t)
	for _, edns := range []bool{false, true} {
		t.Run(fmt.Sprint("edns=", edns), func(t *testing.T) {
			query := new(dns.Msg)
			query.SetQuestion("txt.big.test.", dns.TypeTXT)
			limit := dnsconst.MinUDPSize
			if edns {
				query.SetEdns0(4096, true)
				limit = dnsconst.DefaultUDPSize
			}
			var w Writer
			b, _ := query.Pack()
			var q Query
			if err := ParseQuery(b, &q); err != nil {
				t.Fatal(err)
			}
			if got := w.UDPLimit(&q); got != limit {
				t.Fatalf("UDPLimit = %d, want %d", got, limit)
			}
			var a zone.Answer
			snap.Lookup(&a, q.Qname, q.Qtype)
			out, truncated := w.Answer(&q, &a, limit)
			m := new(dns.Msg)
			if err := m.Unpack(out); err != nil {
				t.Fatal(err)
			}
			if !truncated || !m.Truncated || len(m.Answer) != 0 || len(out) > limit {
				t.Errorf("truncated=%v TC=%v answers=%d size=%d", truncated, m.Truncated, len(m.Answer), len(out))
			}
			if edns && (m.IsEdns0() == nil || !m.IsEdns0().Do()) {
				t.Errorf("truncated EDNS response lost its OPT record or DO bit")
			}
			// Over TCP the whole answer fits.
			out, truncated = w.Answer(&q, &a, dnsconst.MaxMessageSize)
			if err := m.Unpack(out); err != nil {
				t.Fatal(err)
			}
			if truncated || m.Truncated || len(m.Answer) != 60 {
				t.Errorf("TCP: truncated=%v answers=%d", truncated, len(m.Answer))
			}
		})
	}
}

func TestErrorResponses(t *testing.T) {
	var w Writer
	query := new(dns.Msg)
	query.SetQuestion("example.com.", dns.TypeA)
	query.SetEdns0(1232, true)
	query.IsEdns0().SetVersion(1)
	b, _ := query.Pack()
	var q Query
	err := ParseQuery(b, &q)
	fe, ok := err.(*FormatError)
	if !ok || fe.Rcode != dnsconst.RcodeBadVers {
		t.Fatalf("err = %v", err)
	}
	m := new(dns.Msg)
	if err := m.Unpack(w.Error(&q, fe.Rcode)); err != nil {
		t.Fatal(err)
	}
	if m.Rcode != dns.RcodeBadVers || m.IsEdns0() == nil || m.IsEdns0().Version() != 0 || len(m.Question) != 1 {
		t.Errorf("BADVERS response: rcode %d, %v", m.Rcode, m)
	}

	query = new(dns.Msg)
	query.SetQuestion("example.com.", dns.TypeA)
	query.Opcode = 9
	b, _ = query.Pack()
	if err := ParseQuery(b, &q); err != nil {
		t.Fatal(err)
	}
	if err := m.Unpack(w.Error(&q, dnsconst.RcodeNotImp)); err != nil {
		t.Fatal(err)
	}
	if m.Rcode != dns.RcodeNotImplemented || m.Opcode != 9 || m.IsEdns0() != nil {
		t.Errorf("NOTIMP response: %v", m)
	}
}

func BenchmarkAnswer(b *testing.B) {
	snap := testSnapshot(b)
	query := new(dns.Msg)
	query.SetQuestion("www.example.com.", dns.TypeA)
	query.SetEdns0(1232, false)
	pkt, _ := query.Pack()
	var q Query
	var a zone.Answer
	var w Writer
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseQuery(pkt, &q); err != nil {
			b.Fatal(err)
		}
		snap.Lookup(&a, q.Qname, q.Qtype)
		w.Answer(&q, &a, w.UDPLimit(&q))
	}
}
