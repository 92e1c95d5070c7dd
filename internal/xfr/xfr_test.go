package xfr

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
)

type env struct {
	svc *control.Plane
	pub *publish.Publisher
	srv *Handler
	key *model.TSIGKey
}

// newEnv serves zone x.test (records h0..h{n-1}), transferable with the
// key "xfr." or from 10.0.0.0/8, and keeping 3 journal entries.
func newEnv(t testing.TB, n int) *env {
	t.Helper()
	svc, pub := controltest.New(t, control.Options{JournalMaxEntries: 3})
	ctx := context.Background()
	key, err := svc.TSIGKeys.CreateTSIGKey(ctx, "xfr", "hmac-sha512", "", "test")
	if err != nil {
		t.Fatal(err)
	}
	nz := control.NewZone{
		Settings: model.ZoneSettings{Name: "x.test.", ACL: model.ZoneACL{Transfer: []model.ACLRule{
			{Key: "xfr."}, {Network: netip.MustParsePrefix("10.0.0.0/8")},
		}}},
		Nameservers: []model.Name{"ns1.x.test."},
	}
	var extra []*model.RRset
	for i := range n {
		rd, _ := model.ParseRdata(model.TypeA, fmt.Sprintf("192.0.2.%d", i%250))
		extra = append(extra, &model.RRset{Name: model.Name(fmt.Sprintf("h%d.x.test.", i)), Type: model.TypeA, TTL: 60, Rdata: [][]byte{rd}})
	}
	if _, err := svc.Zones.CreateZone(ctx, nz, extra, "test"); err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, pub: pub, srv: New(svc.Zones, svc.TSIGKeys, nil), key: key}
}

func (e *env) change(t *testing.T, name, addr string) {
	t.Helper()
	rd, _ := model.ParseRdata(model.TypeA, addr)
	_, err := e.svc.Zones.Apply(context.Background(), "x.test.", []model.Change{{Op: model.OpSet, Name: model.Name(name), Type: model.TypeA, Rdata: [][]byte{rd}}}, control.WriteOptions{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
}

// request builds a query, signed with key when given (algorithm alg), and
// returns it packed, unpacked, and its MAC.
func request(t testing.TB, qtype uint16, since uint32, key *model.TSIGKey, alg string) ([]byte, *dns.Msg, string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("x.test.", qtype)
	if qtype == dns.TypeIXFR {
		m.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "x.test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET}, Ns: "ns1.x.test.", Mbox: "h.x.test.", Serial: since}}
	}
	if key == nil {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b, m, ""
	}
	m.SetTsig(string(key.Name), alg, 300, time.Now().Unix())
	b, mac, err := dns.TsigGenerate(m, key.SecretBase64(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	return b, m, mac
}

// serve runs one request and returns the messages written.
func (e *env) serve(t *testing.T, req []byte, from string, tcp bool) [][]byte {
	req = append([]byte(nil), req...)
	t.Helper()
	var out [][]byte
	e.srv.Serve(context.Background(), req, nil, netip.MustParseAddr(from), tcp, func(b []byte) error {
		out = append(out, append([]byte(nil), b...))
		return nil
	})
	return out
}

func unpack(t *testing.T, msgs [][]byte) (rrs []dns.RR, last *dns.Msg) {
	t.Helper()
	for _, b := range msgs {
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, m.Answer...)
		last = m
	}
	return rrs, last
}

// TestSignedFullTransfer transfers 5,000 records in several messages and
// verifies each message's signature as a secondary would: the first
// chained to the request's MAC, the others to the previous one, timers
// only.
func TestSignedFullTransfer(t *testing.T) {
	e := newEnv(t, 5000)
	req, m, mac := request(t, dns.TypeAXFR, 0, e.key, dns.HmacSHA512)
	msgs := e.serve(t, req, "192.0.2.1", true)
	if len(msgs) < 3 {
		t.Fatalf("%d messages for 5,000 records", len(msgs))
	}
	for i, b := range msgs {
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil || r.IsTsig() == nil {
			t.Fatalf("message %d: %v, TSIG %v", i, err, r.IsTsig())
		}
		// TsigVerify rewrites the buffer it checks.
		if err := dns.TsigVerify(append([]byte(nil), b...), e.key.SecretBase64(), mac, i > 0); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		mac = r.IsTsig().MAC
		if r.Id != m.Id || !r.Authoritative || r.Rcode != dns.RcodeSuccess {
			t.Fatalf("message %d header: %v", i, r.MsgHdr)
		}
	}
	rrs, _ := unpack(t, msgs)
	var tsigs int
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeTSIG {
			tsigs++
		}
	}
	// SOA, NS, 5,000 A, SOA.
	if len(rrs) != 5003 || rrs[0].Header().Rrtype != dns.TypeSOA || rrs[len(rrs)-1].Header().Rrtype != dns.TypeSOA || tsigs != 0 {
		t.Fatalf("%d records (first %v, last %v)", len(rrs), rrs[0], rrs[len(rrs)-1])
	}
}

func TestIncrementalTransfer(t *testing.T) {
	e := newEnv(t, 10)
	e.change(t, "h1.x.test.", "198.51.100.1") // serial 2
	e.change(t, "h2.x.test.", "198.51.100.2") // serial 3

	req, _, _ := request(t, dns.TypeIXFR, 1, nil, "")
	rrs, _ := unpack(t, e.serve(t, req, "10.1.1.1", true))
	var got []string
	for _, rr := range rrs {
		switch v := rr.(type) {
		case *dns.SOA:
			got = append(got, fmt.Sprintf("SOA %d", v.Serial))
		case *dns.A:
			got = append(got, v.Hdr.Name+" "+v.A.String())
		}
	}
	want := "SOA 3|SOA 1|h1.x.test. 192.0.2.1|SOA 2|h1.x.test. 198.51.100.1|SOA 2|h2.x.test. 192.0.2.2|SOA 3|h2.x.test. 198.51.100.2|SOA 3"
	if g := fmt.Sprint(joined(got)); g != want {
		t.Errorf("IXFR from 1:\n got %s\nwant %s", g, want)
	}

	// Up to date (or ahead): the SOA alone.
	for _, since := range []uint32{3, 7} {
		req, _, _ = request(t, dns.TypeIXFR, since, nil, "")
		if rrs, _ := unpack(t, e.serve(t, req, "10.1.1.1", true)); len(rrs) != 1 || rrs[0].(*dns.SOA).Serial != 3 {
			t.Errorf("IXFR from %d: %v", since, rrs)
		}
	}
	// Over UDP: the current SOA, whatever the serial.
	req, _, _ = request(t, dns.TypeIXFR, 1, nil, "")
	if rrs, _ := unpack(t, e.serve(t, req, "10.1.1.1", false)); len(rrs) != 1 || rrs[0].(*dns.SOA).Serial != 3 {
		t.Errorf("IXFR over UDP: %v", rrs)
	}
	// Past the journal (3 entries kept: serials 1..3 and the creation
	// reset compacted away after more changes): a full transfer.
	e.change(t, "h3.x.test.", "198.51.100.3")
	e.change(t, "h4.x.test.", "198.51.100.4") // serial 5; entries 3->4, 4->5, 2->3 kept
	req, _, _ = request(t, dns.TypeIXFR, 1, nil, "")
	rrs, _ = unpack(t, e.serve(t, req, "10.1.1.1", true))
	if len(rrs) != 13 || rrs[1].Header().Rrtype == dns.TypeSOA {
		t.Errorf("IXFR from a compacted serial: %d records, want the whole zone (13) as AXFR", len(rrs))
	}
}

func joined(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "|"
		}
		out += x
	}
	return out
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, 3)
	other := &model.TSIGKey{Name: "other.", Algorithm: "hmac-sha256", Secret: []byte("0123456789abcdef0123456789abcdef")}
	wrongSecret := &model.TSIGKey{Name: "xfr.", Algorithm: "hmac-sha512", Secret: []byte("0123456789abcdef0123456789abcdef")}
	for _, tc := range []struct {
		name      string
		qtype     uint16
		key       *model.TSIGKey
		alg       string
		from      string
		tcp       bool
		rcode     int
		tsigError uint16
	}{
		{"unsigned, outside the networks", dns.TypeAXFR, nil, "", "192.0.2.1", true, dns.RcodeRefused, 0},
		{"AXFR over UDP", dns.TypeAXFR, nil, "", "10.0.0.1", false, dns.RcodeRefused, 0},
		{"unknown key", dns.TypeAXFR, other, dns.HmacSHA256, "10.0.0.1", true, dns.RcodeNotAuth, dns.RcodeBadKey},
		{"wrong algorithm", dns.TypeAXFR, e.key, dns.HmacSHA256, "10.0.0.1", true, dns.RcodeNotAuth, dns.RcodeBadKey},
		{"wrong secret", dns.TypeAXFR, wrongSecret, dns.HmacSHA512, "10.0.0.1", true, dns.RcodeNotAuth, dns.RcodeBadSig},
		{"IXFR without SOA", dns.TypeIXFR, nil, "", "10.0.0.1", true, dns.RcodeFormatError, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, m, _ := request(t, tc.qtype, 1, tc.key, tc.alg)
			if tc.name == "IXFR without SOA" {
				m.Ns = nil
				req, _ = m.Pack()
			}
			msgs := e.serve(t, req, tc.from, tc.tcp)
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			r := new(dns.Msg)
			if err := r.Unpack(msgs[0]); err != nil {
				t.Fatal(err)
			}
			if r.Rcode != tc.rcode || len(r.Answer) != 0 {
				t.Errorf("rcode %s with %d answers, want %s", dns.RcodeToString[r.Rcode], len(r.Answer), dns.RcodeToString[tc.rcode])
			}
			if tc.key != nil {
				ts := r.IsTsig()
				if ts == nil || ts.Error != tc.tsigError || ts.MACSize != 0 {
					t.Errorf("TSIG %v, want error %s and no MAC", ts, dns.RcodeToString[int(tc.tsigError)])
				}
			}
		})
	}
}

// TestBadTime answers a request signed too long ago with BADTIME, signed,
// carrying the server's time.
func TestBadTime(t *testing.T) {
	e := newEnv(t, 1)
	m := new(dns.Msg)
	m.SetQuestion("x.test.", dns.TypeAXFR)
	m.SetTsig("xfr.", dns.HmacSHA512, 300, time.Now().Add(-time.Hour).Unix())
	req, _, err := dns.TsigGenerate(m, e.key.SecretBase64(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.serve(t, req, "10.0.0.1", true)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	r := new(dns.Msg)
	r.Unpack(msgs[0])
	ts := r.IsTsig()
	// Signed: miekg/dns verifies no NOTAUTH message, so the MAC's presence
	// and the server's time are what is checked here.
	if r.Rcode != dns.RcodeNotAuth || ts == nil || ts.Error != dns.RcodeBadTime || ts.OtherLen != 6 || ts.MACSize != 64 {
		t.Fatalf("answer %v", r)
	}
	if d := int64(ts.TimeSigned) - time.Now().Unix(); d < -5 || d > 5 {
		t.Errorf("signed at %d, %d s from now", ts.TimeSigned, d)
	}
}

// TestSignedQuery signs the query path's answer to a signed query.
func TestSignedQuery(t *testing.T) {
	e := newEnv(t, 1)
	m := new(dns.Msg)
	m.SetQuestion("h0.x.test.", dns.TypeA)
	m.SetTsig("xfr.", dns.HmacSHA512, 300, time.Now().Unix())
	req, mac, err := dns.TsigGenerate(m, e.key.SecretBase64(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	ans := m.Copy()
	ans.Extra = nil
	ans.SetReply(m)
	ans.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "h0.x.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: []byte{192, 0, 2, 0}}}
	answer, _ := ans.Pack()
	var out [][]byte
	e.srv.Serve(context.Background(), req, answer, netip.MustParseAddr("192.0.2.1"), false, func(b []byte) error {
		out = append(out, b)
		return nil
	})
	if len(out) != 1 {
		t.Fatalf("%d messages", len(out))
	}
	if err := dns.TsigVerify(append([]byte(nil), out[0]...), e.key.SecretBase64(), mac, false); err != nil {
		t.Errorf("signed answer: %v", err)
	}
	r := new(dns.Msg)
	r.Unpack(out[0])
	if len(r.Answer) != 1 {
		t.Errorf("answer %v", r)
	}
}

// BenchmarkFullTransfer serves an AXFR of 100,000 records: read, pack,
// sign.
func BenchmarkFullTransfer(b *testing.B) {
	e := newEnv(b, 100000)
	req, _, _ := request(b, dns.TypeAXFR, 0, e.key, dns.HmacSHA512)
	b.ReportAllocs()
	for b.Loop() {
		var bytes int
		e.srv.Serve(context.Background(), append([]byte(nil), req...), nil, netip.MustParseAddr("10.0.0.1"), true, func(m []byte) error {
			bytes += len(m)
			return nil
		})
		b.SetBytes(int64(bytes))
	}
}

// TestSignedNotImplemented answers a signed request of an opcode not
// implemented with NOTIMP, signed, whether or not it has a question; a
// request whose signature fails is refused as any other.
func TestSignedNotImplemented(t *testing.T) {
	e := newEnv(t, 1)
	for _, tc := range []struct {
		name      string
		opcode    int
		questions int
	}{
		{"opcode 15 without a question", 15, 0},
		{"opcode 15 with a question", 15, 1},
		{"opcode 3 with two questions", 3, 2},
		{"STATUS", dns.OpcodeStatus, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.Id, m.Opcode = 77, tc.opcode
			for range tc.questions {
				m.Question = append(m.Question, dns.Question{Name: "x.test.", Qtype: dns.TypeSOA, Qclass: dns.ClassINET})
			}
			m.SetTsig("xfr.", dns.HmacSHA512, 300, time.Now().Unix())
			req, mac, err := dns.TsigGenerate(m, e.key.SecretBase64(), "", false)
			if err != nil {
				t.Fatal(err)
			}
			msgs := e.serve(t, req, "192.0.2.1", false)
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			if err := dns.TsigVerify(append([]byte(nil), msgs[0]...), e.key.SecretBase64(), mac, false); err != nil {
				t.Errorf("reply not signed: %v", err)
			}
			r := new(dns.Msg)
			if err := r.Unpack(msgs[0]); err != nil {
				t.Fatal(err)
			}
			wantQ := 0
			if tc.questions == 1 {
				wantQ = 1
			}
			if r.Rcode != dns.RcodeNotImplemented || r.Opcode != tc.opcode || r.Id != 77 || len(r.Question) != wantQ {
				t.Errorf("reply %v", r)
			}
		})
	}
}

// TestTSIGErrorReplies checks the TSIG record of every refusal for TSIG
// reasons (RFC 8945 section 5.3.2): BADSIG and BADKEY unsigned, with no
// MAC but with the server's time (a time of 0 makes dig and nsupdate
// report clocks out of step); BADTIME signed, with the server's time in
// Other Data. Every kind of request that can be refused so is tried:
// transfers, signed queries, NOTIFY and UPDATE.
func TestTSIGErrorReplies(t *testing.T) {
	e := newEnv(t, 1)
	clock := time.Unix(1_900_000_000, 0)
	e.srv.now = func() time.Time { return clock }
	other := &model.TSIGKey{Name: "other.", Algorithm: "hmac-sha256", Secret: []byte("0123456789abcdef0123456789abcdef")}
	wrongSecret := &model.TSIGKey{Name: "xfr.", Algorithm: "hmac-sha512", Secret: []byte("0123456789abcdef0123456789abcdef")}
	for _, req := range []struct {
		name   string
		opcode int
		qtype  uint16
		tcp    bool
	}{
		{"AXFR", dns.OpcodeQuery, dns.TypeAXFR, true},
		{"query", dns.OpcodeQuery, dns.TypeA, false},
		{"NOTIFY", dns.OpcodeNotify, dns.TypeSOA, false},
		{"UPDATE", dns.OpcodeUpdate, dns.TypeSOA, true},
	} {
		for _, tc := range []struct {
			name     string
			key      *model.TSIGKey
			alg      string
			signedAt time.Time
			err      uint16
		}{
			{"wrong secret", wrongSecret, dns.HmacSHA512, time.Now(), dns.RcodeBadSig},
			{"unknown key", other, dns.HmacSHA256, time.Now(), dns.RcodeBadKey},
			{"wrong algorithm", e.key, dns.HmacSHA256, time.Now(), dns.RcodeBadKey},
			{"signed an hour ago", e.key, dns.HmacSHA512, time.Now().Add(-time.Hour), dns.RcodeBadTime},
		} {
			t.Run(req.name+"/"+tc.name, func(t *testing.T) {
				m := new(dns.Msg)
				m.SetQuestion("x.test.", req.qtype)
				m.Opcode = req.opcode
				m.SetTsig(string(tc.key.Name), tc.alg, 300, tc.signedAt.Unix())
				pkt, _, err := dns.TsigGenerate(m, tc.key.SecretBase64(), "", false)
				if err != nil {
					t.Fatal(err)
				}
				msgs := e.serve(t, pkt, "10.0.0.1", req.tcp)
				if len(msgs) != 1 {
					t.Fatalf("%d messages", len(msgs))
				}
				r := new(dns.Msg)
				if err := r.Unpack(msgs[0]); err != nil {
					t.Fatal(err)
				}
				ts := r.IsTsig()
				if r.Rcode != dns.RcodeNotAuth || ts == nil || ts.Error != tc.err || ts.OrigId != m.Id || ts.Fudge != 300 ||
					ts.Hdr.Name != string(tc.key.Name) || ts.Algorithm != tc.alg {
					t.Fatalf("reply %v", r)
				}
				if tc.err == dns.RcodeBadTime {
					if ts.MACSize == 0 || ts.OtherLen != 6 || ts.OtherData != fmt.Sprintf("%012x", clock.Unix()) {
						t.Errorf("BADTIME: MAC size %d, other data %q; want a MAC and the server's time %d", ts.MACSize, ts.OtherData, clock.Unix())
					}
					return
				}
				if ts.TimeSigned != uint64(clock.Unix()) || ts.MACSize != 0 || ts.MAC != "" || ts.OtherLen != 0 {
					t.Errorf("time signed %d, MAC size %d, other length %d; want the server's time %d, no MAC, no other data",
						ts.TimeSigned, ts.MACSize, ts.OtherLen, clock.Unix())
				}
			})
		}
	}
}

// notified is a Notified that answers as told and keeps what it was
// handed.
type notified struct {
	known, allowed bool
	err            error
	zone, key      model.Name
	from           netip.Addr
	serial         *uint32
}

func (n *notified) Notify(_ context.Context, z, key model.Name, from netip.Addr, serial *uint32) (bool, bool, error) {
	n.zone, n.key, n.from, n.serial = z, key, from, serial
	return n.known, n.allowed, n.err
}

// TestNotifyAnswers: a NOTIFY is handed over with the serial its answer
// section announces (none when it holds no SOA of the zone), and answered
// by what the secondary zones say: NOERROR, NOTAUTH, REFUSED, or SERVFAIL
// when the refresh could not be started.
func TestNotifyAnswers(t *testing.T) {
	e := newEnv(t, 1)
	soa := func(name string, serial uint32) dns.RR {
		return &dns.SOA{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60}, Ns: "ns1.x.test.", Mbox: "h.x.test.", Serial: serial}
	}
	for _, tc := range []struct {
		name   string
		n      notified
		answer []dns.RR
		rcode  int
		serial int64 // -1: none
	}{
		{"accepted", notified{known: true, allowed: true}, []dns.RR{soa("X.test.", 7)}, dns.RcodeSuccess, 7},
		{"no hint", notified{known: true, allowed: true}, nil, dns.RcodeSuccess, -1},
		{"hint of another zone", notified{known: true, allowed: true}, []dns.RR{soa("y.test.", 7)}, dns.RcodeSuccess, -1},
		{"not a secondary here", notified{}, nil, dns.RcodeNotAuth, -1},
		{"not a primary", notified{known: true}, nil, dns.RcodeRefused, -1},
		{"hand-over failed", notified{known: true, allowed: true, err: errors.New("store away")}, []dns.RR{soa("x.test.", 8)}, dns.RcodeServerFailure, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.n
			e.srv.SetNotified(&n)
			m := new(dns.Msg)
			m.SetNotify("x.test.")
			m.Answer = tc.answer
			req, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			_, r := unpack(t, e.serve(t, req, "192.0.2.7", false))
			if r == nil || r.Rcode != tc.rcode || r.Opcode != dns.OpcodeNotify {
				t.Fatalf("answer %v, want rcode %s", r, dns.RcodeToString[tc.rcode])
			}
			if n.zone != "x.test." || n.from != netip.MustParseAddr("192.0.2.7") {
				t.Errorf("handed zone %q from %v", n.zone, n.from)
			}
			switch {
			case tc.serial < 0 && n.serial != nil:
				t.Errorf("handed serial %d, want none", *n.serial)
			case tc.serial >= 0 && (n.serial == nil || int64(*n.serial) != tc.serial):
				t.Errorf("handed serial %v, want %d", n.serial, tc.serial)
			}
		})
	}
}
