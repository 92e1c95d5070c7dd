package dnsserver

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func bigZone() string {
	var b strings.Builder
	b.WriteString("@ SOA ns.big.test. h.big.test. 1 2 3 4 5\n@ NS ns.big.test.\nns A 192.0.2.1\n")
	for i := range 60 {
		fmt.Fprintf(&b, "txt TXT \"a long enough text record to fill a message quickly %d\"\n", i)
	}
	return b.String()
}

// startServer runs a server on a free loopback port and stops it when the
// test ends.
func startServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{
		"example.com.": zonetest.ExampleCom,
		"big.test.":    bigZone(),
	}))
	if cfg.Listen == nil {
		cfg.Listen = []string{"127.0.0.1:0"}
	}
	s, err := New(cfg, &src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s, s.Addrs()[0].String()
}

func exchange(t *testing.T, netw, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: netw, Timeout: time.Minute, UDPSize: 65535}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s exchange: %v", netw, err)
	}
	return r
}

func TestUDPAndTCPAnswers(t *testing.T) {
	_, addr := startServer(t, Config{})
	for _, netw := range []string{"udp", "tcp"} {
		m := new(dns.Msg)
		m.SetQuestion("wWw.example.com.", dns.TypeA)
		r := exchange(t, netw, addr, m)
		if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 2 || r.Question[0].Name != "wWw.example.com." {
			t.Errorf("%s: %v", netw, r)
		}
	}
}

func TestTruncationOverUDP(t *testing.T) {
	_, addr := startServer(t, Config{})
	m := new(dns.Msg)
	m.SetQuestion("txt.big.test.", dns.TypeTXT)
	m.SetEdns0(4096, false)
	r := exchange(t, "udp", addr, m)
	if !r.Truncated || len(r.Answer) != 0 || r.IsEdns0() == nil || r.IsEdns0().UDPSize() != 1232 {
		t.Errorf("UDP: want TC=1, no answers and our OPT with 1232; got %v", r)
	}
	r = exchange(t, "tcp", addr, m)
	if r.Truncated || len(r.Answer) != 60 {
		t.Errorf("TCP: TC=%v answers=%d", r.Truncated, len(r.Answer))
	}
}

func TestErrorRcodes(t *testing.T) {
	_, addr := startServer(t, Config{})
	tests := []struct {
		name  string
		edit  func(m *dns.Msg)
		rcode int
	}{
		{"unknown opcode is NOTIMP", func(m *dns.Msg) { m.Opcode = 9 }, dns.RcodeNotImplemented},
		{"UPDATE is NOTIMP", func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }, dns.RcodeNotImplemented},
		{"two questions is FORMERR", func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }, dns.RcodeFormatError},
		{"EDNS version 1 is BADVERS", func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }, dns.RcodeBadVers},
		{"CHAOS class is REFUSED", func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }, dns.RcodeRefused},
		{"AXFR is REFUSED", func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeAXFR }, dns.RcodeRefused},
		{"outside our zones is REFUSED", func(m *dns.Msg) { m.Question[0].Name = "example.org." }, dns.RcodeRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion("example.com.", dns.TypeA)
			tc.edit(m)
			r := exchange(t, "udp", addr, m)
			if r.Rcode != tc.rcode || r.Id != m.Id {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			}
		})
	}
}

func TestGarbageGetsNoReply(t *testing.T) {
	_, addr := startServer(t, Config{})
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp := new(dns.Msg)
	resp.SetQuestion("example.com.", dns.TypeA)
	resp.Response = true
	rb, _ := resp.Pack()
	for _, pkt := range [][]byte{{1, 2, 3}, rb, make([]byte, 11)} {
		c.Write(pkt)
	}
	// A real query afterwards is answered, and it is the only reply.
	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	qb, _ := q.Pack()
	c.Write(qb)
	c.SetReadDeadline(time.Now().Add(time.Minute))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(buf[:n]); err != nil || r.Id != q.Id {
		t.Fatalf("first reply is not the answer to the real query: %v %v", err, r)
	}
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Read(buf); err == nil {
		t.Error("got a second reply; garbage must get none")
	}
}

func TestTCPPipelining(t *testing.T) {
	_, addr := startServer(t, Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var batch []byte
	names := []string{"www.example.com.", "alias.example.com.", "nope.example.com."}
	for i, n := range names {
		m := new(dns.Msg)
		m.SetQuestion(n, dns.TypeA)
		m.Id = uint16(100 + i)
		b, _ := m.Pack()
		batch = binary.BigEndian.AppendUint16(batch, uint16(len(b)))
		batch = append(batch, b...)
	}
	if _, err := c.Write(batch); err != nil { // all three in one segment
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(time.Minute))
	for i := range names {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Fatal(err)
		}
		if r.Id != uint16(100+i) || r.Question[0].Name != names[i] {
			t.Errorf("response %d: id %d question %v", i, r.Id, r.Question)
		}
	}
}

func TestTCPIdleTimeout(t *testing.T) {
	_, addr := startServer(t, Config{TCPIdleTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("idle connection: read returned %v, want EOF (closed by the server)", err)
	}
}

func TestTCPConnectionCap(t *testing.T) {
	_, addr := startServer(t, Config{TCPMaxConns: 2})
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// Make sure both are accepted and counted before the third arrives.
	for _, c := range held {
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		co := &dns.Conn{Conn: c}
		if err := co.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		if _, err := co.ReadMsg(); err != nil {
			t.Fatal(err)
		}
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("third connection: read returned %v, want EOF", err)
	}
}

func TestStartFailsOnBusyAddress(t *testing.T) {
	s1, addr := startServer(t, Config{})
	_ = s1
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zone.Empty())
	s2, err := New(Config{Listen: []string{"127.0.0.1:0", addr}}, &src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s2.Start()
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Start on a busy address: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Listen: []string{"localhost:53"}},
		{Listen: []string{"127.0.0.1:53"}, UDPSize: 100},
	} {
		if _, err := New(cfg, nil, nil, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// TestServeAllocations is the allocation budget of the query path: a
// cached positive answer, a NXDOMAIN, a referral and NS and MX answers
// with additional data are answered, and counted for metrics, without
// allocating.
func TestServeAllocations(t *testing.T) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	h := counted(newHandler(&src, nil, 1232, false))
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"www.example.com.", dns.TypeA}, {"nope.example.com.", dns.TypeA}, {"host.sub.example.com.", dns.TypeA},
		{"x.wild.example.com.", dns.TypeA}, {"example.com.", dns.TypeNS}, {"mx.example.com.", dns.TypeMX},
	} {
		name := q.name
		m := new(dns.Msg)
		m.SetQuestion(name, q.qtype)
		m.SetEdns0(1232, true)
		pkt, _ := m.Pack()
		if h.serve(pkt, loopback, false) == nil {
			t.Fatal("no response")
		}
		if n := testing.AllocsPerRun(200, func() { h.st.sent(h.serve(pkt, loopback, false)); h.st.publish() }); n > 0 {
			t.Errorf("%s: %v allocations per query, budget 0", name, n)
		}
	}
	// Cookies (a client cookie to answer, a server cookie to check) and
	// the server's identity (NSID, CH TXT id.server) cost none either.
	eh := counted(edgeHandler(t, Config{Identity: "ns1.example.net"}))
	first := replyCookie(t, eh.serve(cookieQuery(t, "0102030405060708"), loopback, false))
	nsid := new(dns.Msg)
	nsid.SetQuestion("www.example.com.", dns.TypeA)
	nsid.SetEdns0(1232, false)
	nsid.IsEdns0().Option = append(nsid.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	ch := new(dns.Msg)
	ch.SetQuestion("id.server.", dns.TypeTXT)
	ch.Question[0].Qclass = dns.ClassCHAOS
	for name, m := range map[string]*dns.Msg{"nsid": nsid, "id.server": ch} {
		pkt, _ := m.Pack()
		if n := testing.AllocsPerRun(200, func() { eh.serve(pkt, loopback, false) }); n > 0 {
			t.Errorf("%s: %v allocations per query, budget 0", name, n)
		}
	}
	for name, cookie := range map[string]string{"client cookie": "0102030405060708", "server cookie": first} {
		pkt := cookieQuery(t, cookie)
		if n := testing.AllocsPerRun(200, func() { eh.serve(pkt, loopback, false) }); n > 0 {
			t.Errorf("%s: %v allocations per query, budget 0", name, n)
		}
		if name == "server cookie" && !eh.q.CookieValid {
			t.Error("the server cookie is not valid")
		}
	}
}

func BenchmarkServe(b *testing.B) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(b, map[string]string{"example.com.": zonetest.ExampleCom}))
	h := newHandler(&src, nil, 1232, false)
	for _, bc := range []struct {
		name, qname string
		qtype       uint16
	}{
		{"positive", "www.example.com.", dns.TypeA},
		{"nxdomain", "nope.example.com.", dns.TypeA},
		{"cname-chain", "chain.example.com.", dns.TypeA},
		{"wildcard", "x.wild.example.com.", dns.TypeA},
		{"referral", "host.sub.example.com.", dns.TypeA},
		{"apex-ns", "example.com.", dns.TypeNS},
		{"mx", "mx.example.com.", dns.TypeMX},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := new(dns.Msg)
			m.SetQuestion(bc.qname, bc.qtype)
			m.SetEdns0(1232, false)
			pkt, _ := m.Pack()
			b.ReportAllocs()
			for b.Loop() {
				h.serve(pkt, loopback, false)
			}
		})
	}
}

var loopback = netip.MustParseAddr("127.0.0.1")

// TestNotImplementedOpcodes answers opcodes other than QUERY, NOTIFY and
// UPDATE with NOTIMP whether or not the request has a question (RFC 1035
// section 4.1.1; ISC's EDNS compliance tests send opcode 15 without one),
// echoing the ID, the opcode, RD, CD, the question when there is exactly
// one, and EDNS when the request had it.
func TestNotImplementedOpcodes(t *testing.T) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	for _, ext := range []bool{false, true} {
		h := newHandler(&src, nil, 1232, ext)
		for _, tc := range []struct {
			name      string
			opcode    int
			questions int
			edns      bool
		}{
			{"IQUERY", 1, 1, false},
			{"STATUS", 2, 1, true},
			{"unassigned 3", 3, 1, false},
			{"DSO", 6, 0, false},
			{"15 with a question", 15, 1, true},
			{"15 without a question", 15, 0, false},
			{"15 without a question, with EDNS", 15, 0, true},
			{"15 with two questions", 15, 2, false},
		} {
			m := new(dns.Msg)
			m.Id, m.Opcode, m.RecursionDesired, m.CheckingDisabled = 0x1234, tc.opcode, true, true
			for range tc.questions {
				m.Question = append(m.Question, dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
			}
			if tc.edns {
				m.SetEdns0(1232, true)
			}
			pkt, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			out := h.serve(pkt, loopback, false)
			if out == nil {
				t.Errorf("%s (ext %v): no reply", tc.name, ext)
				continue
			}
			r := new(dns.Msg)
			if err := r.Unpack(out); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			wantQ := 0
			if tc.questions == 1 {
				wantQ = 1
			}
			opt := r.IsEdns0()
			if r.Rcode != dns.RcodeNotImplemented || r.Id != m.Id || r.Opcode != tc.opcode || !r.Response || r.Authoritative ||
				!r.RecursionDesired || !r.CheckingDisabled || len(r.Question) != wantQ || len(r.Answer)+len(r.Ns) != 0 ||
				(opt != nil) != tc.edns || opt != nil && !opt.Do() {
				t.Errorf("%s (ext %v): reply\n%v", tc.name, ext, r)
			}
		}
	}
}
