package dnsserver

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// counted gives h counters of its own for metrics, as a UDP reader has.
func counted(h *handler) *handler {
	h.st = newReaderStats(transportUDP)
	return h
}

// queryCounts renders the query counts as sorted lines
// "zone qtype rcode transport count".
func queryCounts(st Stats) []string {
	var out []string
	for _, q := range st.Queries {
		out = append(out, fmt.Sprintf("%s %s %s %s %d", cmp(q.Zone), q.Qtype, q.Rcode, q.Transport, q.Count))
	}
	sort.Strings(out)
	return out
}

func cmp(zone string) string {
	if zone == "" {
		return `""`
	}
	return zone
}

func packed(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

func question(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

// TestStatsCount: each response of the query path is counted once, by
// the zone that answered, its query type (the bounded set), its rcode
// (extended ones included) and transport; requests handed over are
// counted by kind and not as queries; nothing is counted with counting
// off.
func TestStatsCount(t *testing.T) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom, "other.test.": zonetest.OtherTest}))
	s, err := New(Config{Listen: []string{"127.0.0.1:0"}, Stats: true, Version: "v1"}, &src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetExtended(&echoExtended{})
	udp := s.handler(nil, s.stats.udpReader())
	tcp := s.handler(nil, s.stats.tcpTake())

	badVers := question("www.example.com.", dns.TypeA)
	badVers.SetEdns0(1232, false)
	badVers.IsEdns0().SetVersion(1)
	notImp := question("www.example.com.", dns.TypeA)
	notImp.Opcode = 2
	chaos := question("version.bind.", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	chaosRefused := question("nothing.bind.", dns.TypeTXT)
	chaosRefused.Question[0].Qclass = dns.ClassCHAOS
	formErr := question("www.example.com.", dns.TypeA)
	formErr.Question = append(formErr.Question, formErr.Question[0]) // two questions
	notify := question("example.com.", dns.TypeSOA)
	notify.Opcode = dns.OpcodeNotify
	update := question("example.com.", dns.TypeSOA)
	update.Opcode = dns.OpcodeUpdate
	signed := question("www.example.com.", dns.TypeA)
	signed.SetTsig("key.", dns.HmacSHA256, 300, time.Now().Unix())
	signedPkt, _, err := dns.TsigGenerate(signed, "c2VjcmV0", "", false)
	if err != nil {
		t.Fatal(err)
	}

	for _, q := range []struct {
		h   *handler
		pkt []byte
	}{
		{udp, packed(t, question("www.example.com.", dns.TypeA))},
		{udp, packed(t, question("WWW.Example.COM.", dns.TypeA))},
		{udp, packed(t, question("www.example.com.", dns.TypeAAAA))},
		{udp, packed(t, question("nope.example.com.", dns.TypeA))},
		{udp, packed(t, question("www.other.test.", dns.TypeHTTPS))},
		{udp, packed(t, question("www.example.com.", dns.TypeNAPTR))},
		{udp, packed(t, question("www.nowhere.invalid.", dns.TypeA))},
		{udp, packed(t, badVers)},
		{udp, packed(t, notImp)},
		{udp, packed(t, chaos)},
		{udp, packed(t, chaosRefused)},
		{udp, packed(t, formErr)},
		{udp, []byte{1, 2, 3}}, // no reply, not counted
		{udp, packed(t, question("example.com.", dns.TypeAXFR))},
		{tcp, packed(t, question("example.com.", dns.TypeAXFR))},
		{tcp, packed(t, question("example.com.", dns.TypeIXFR))},
		{udp, packed(t, notify)},
		{udp, packed(t, update)},
		{udp, signedPkt},
		{tcp, packed(t, question("www.example.com.", dns.TypeA))},
		{tcp, packed(t, question("mx.example.com.", dns.TypeMX))},
	} {
		q.h.serve(q.pkt, loopback, false)
	}
	if st := s.Stats(); len(st.Queries) != 0 {
		t.Errorf("counts seen before they were published: %v", queryCounts(st))
	}
	udp.st.publish()
	tcp.st.publish()
	st := s.Stats()
	want := []string{
		`"" other FORMERR udp 1`, // two questions: none read
		`"" A NOTIMP udp 1`,
		`"" A REFUSED udp 1`,
		`"" A BADVERS udp 1`,
		`"" TXT NOERROR udp 1`,
		`"" TXT REFUSED udp 1`,
		`example.com. A NOERROR tcp 1`,
		`example.com. A NOERROR udp 2`,
		`example.com. A NXDOMAIN udp 1`,
		`example.com. AAAA NOERROR udp 1`,
		`example.com. MX NOERROR tcp 1`,
		`example.com. other NOERROR udp 1`,
		`other.test. HTTPS NOERROR udp 1`,
	}
	sort.Strings(want)
	if got := queryCounts(st); !slices.Equal(got, want) {
		t.Errorf("queries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if want := [numKinds]uint64{2, 1, 1, 1, 1}; st.HandedOver != want {
		t.Errorf("handed over %v (%v), want %v", st.HandedOver, HandOverKinds, want)
	}

	off, err := New(Config{Listen: []string{"127.0.0.1:0"}}, &src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := off.handler(nil, off.stats.udpReader())
	h.serve(packed(t, question("www.example.com.", dns.TypeA)), loopback, false)
	if st := off.Stats(); len(st.Queries) != 0 || h.st != nil {
		t.Errorf("counting off: %+v", st)
	}
}

// TestStatsZonesAcrossSnapshots: a zone keeps its counters when a new
// snapshot brings a new *zone.Zone for it, and counting the new one
// allocates nothing.
func TestStatsZonesAcrossSnapshots(t *testing.T) {
	var src atomic.Pointer[zone.Snapshot]
	a := zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom})
	b := zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom, "other.test.": zonetest.OtherTest})
	src.Store(a)
	h := counted(newHandler(&src, nil, 1232, false))
	pkt := packed(t, question("www.example.com.", dns.TypeA))
	h.serve(pkt, loopback, false)
	src.Store(b)
	h.serve(pkt, loopback, false)
	i := 0
	if n := testing.AllocsPerRun(100, func() {
		if i++; i%2 == 0 {
			src.Store(a)
		} else {
			src.Store(b)
		}
		h.serve(pkt, loopback, false)
	}); n > 0 {
		t.Errorf("%v allocations per query across snapshots", n)
	}
	h.st.publish()
	zs := h.st.zones
	if len(zs) != 1 || zs[0].name != "example.com." {
		t.Fatalf("zones counted %d, the first %q", len(zs), zs[0].name)
	}
	if n := zs[0].n[qtypeIndex(dns.TypeA)*numRcodes+rcodeIndex(dns.RcodeSuccess)]; n != 103 {
		t.Errorf("counted %d, want 103", n)
	}
}

// TestStatsServer counts real UDP and TCP traffic: responses, their
// sizes, truncation, and the TCP connections open.
func TestStatsServer(t *testing.T) {
	s, addr := startServer(t, Config{UDPReaders: 2, Stats: true, RRL: RRLConfig{Disabled: true}})
	c := &dns.Client{Net: "udp"}
	ask := func(c *dns.Client, m *dns.Msg) *dns.Msg {
		t.Helper()
		r, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	small := ask(c, question("www.example.com.", dns.TypeA))
	ask(c, question("nope.example.com.", dns.TypeA))
	big := ask(c, question("txt.big.test.", dns.TypeTXT)) // no EDNS: 512 octets at most
	if !big.Truncated {
		t.Fatal("txt.big.test. was not truncated")
	}
	tc := &dns.Client{Net: "tcp"}
	full := ask(tc, question("txt.big.test.", dns.TypeTXT))
	if full.Truncated {
		t.Fatal("TCP answer truncated")
	}

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	waitConns := func(want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for s.Stats().TCPConnections != want {
			if time.Now().After(deadline) {
				t.Fatalf("TCP connections %d, want %d", s.Stats().TCPConnections, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitConns(1)
	conn.Close()
	waitConns(0)

	st := s.Stats()
	want := []string{
		`big.test. TXT NOERROR tcp 1`,
		`big.test. TXT NOERROR udp 1`,
		`example.com. A NOERROR udp 1`,
		`example.com. A NXDOMAIN udp 1`,
	}
	if got := queryCounts(st); !slices.Equal(got, want) {
		t.Errorf("queries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	u, tt := st.Transports[transportUDP], st.Transports[transportTCP]
	if u.Truncated != 1 || tt.Truncated != 0 || u.Count != 3 || tt.Count != 1 {
		t.Errorf("udp %+v tcp %+v", u, tt)
	}
	// Over UDP without EDNS, every response fits 512 octets; the full
	// answer over TCP does not.
	if u.SizeBuckets[3] != 3 || u.SizeBuckets[numSizes-1] != 3 || u.Sum > 3*512 || u.Sum < 3*12 {
		t.Errorf("udp sizes %v sum %d", u.SizeBuckets, u.Sum)
	}
	if tt.SizeBuckets[3] != 0 || tt.SizeBuckets[numSizes-1] != 1 || tt.Sum <= 512 {
		t.Errorf("tcp sizes %v sum %d", tt.SizeBuckets, tt.Sum)
	}
	if small.Truncated {
		t.Error("www.example.com. truncated")
	}
}

// BenchmarkServeMetrics compares the query path with counting for
// metrics on and off: two handlers over the same zones answer the same
// mix of queries in alternate rounds, so that the load of a busy machine
// falls on both alike. It reports each one's queries a second (off_q/s,
// on_q/s) and the median of the rounds' ratios (qps_ratio, on/off).
func BenchmarkServeMetrics(b *testing.B) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(b, map[string]string{"example.com.": zonetest.ExampleCom, "other.test.": zonetest.OtherTest}))
	var pkts [][]byte
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"www.example.com.", dns.TypeA}, {"www.example.com.", dns.TypeAAAA}, {"nope.example.com.", dns.TypeA},
		{"x.wild.example.com.", dns.TypeA}, {"mx.example.com.", dns.TypeMX}, {"www.other.test.", dns.TypeA},
		{"host.sub.example.com.", dns.TypeA}, {"www.nowhere.invalid.", dns.TypeA},
	} {
		m := question(q.name, q.qtype)
		m.SetEdns0(1232, false)
		pkts = append(pkts, packed(b, m))
	}
	off := newHandler(&src, nil, 1232, false)
	on := counted(newHandler(&src, nil, 1232, false))
	const round = 500
	var tOff, tOn time.Duration
	var ratios []float64
	run := func(h *handler) time.Duration {
		start := time.Now()
		for i := range round {
			resp := h.serve(pkts[i%len(pkts)], loopback, false)
			if h.st != nil {
				h.st.sent(resp)
				if i%udpBatchSize == udpBatchSize-1 { // as a busy UDP reader does
					h.st.publish()
				}
			}
		}
		return time.Since(start)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		var a, c time.Duration
		if n%2 == 0 {
			a = run(off)
			c = run(on)
		} else {
			c = run(on)
			a = run(off)
		}
		tOff, tOn = tOff+a, tOn+c
		ratios = append(ratios, a.Seconds()/c.Seconds())
		n++
	}
	slices.Sort(ratios)
	q := float64(n * round)
	b.ReportMetric(q/tOff.Seconds(), "off_q/s")
	b.ReportMetric(q/tOn.Seconds(), "on_q/s")
	b.ReportMetric(ratios[len(ratios)/2], "qps_ratio")
}

// TestStatsIndexes: every size falls in the first bucket whose bound it
// does not exceed, and every query type of the set counts as itself.
func TestStatsIndexes(t *testing.T) {
	for n := 0; n <= 70000; n++ {
		want := numSizes
		for i, b := range ResponseSizeBuckets {
			if n <= b {
				want = i
				break
			}
		}
		if got := sizeIndex(n); got != want {
			t.Fatalf("sizeIndex(%d) = %d, want %d", n, got, want)
		}
	}
	for i, name := range QueryTypes {
		qt, ok := dns.StringToType[name]
		if name == "other" {
			qt, ok = dns.TypeNAPTR, true
		}
		if !ok {
			t.Fatalf("no type %s", name)
		}
		if got := qtypeIndex(qt); got != i {
			t.Errorf("qtypeIndex(%s) = %d, want %d", name, got, i)
		}
	}
	for _, qt := range []uint16{0, 3, dns.TypeOPT, 256, 258, 65535} {
		if got := qtypeIndex(qt); got != numQtypes-1 {
			t.Errorf("qtypeIndex(%d) = %d, want other", qt, got)
		}
	}
	for i, name := range Rcodes {
		rc, ok := dns.StringToRcode[name]
		switch name {
		case "BADVERS":
			rc, ok = dns.RcodeBadVers, true
		case "other":
			rc, ok = dns.RcodeYXDomain, true
		}
		if !ok {
			t.Fatalf("no rcode %s", name)
		}
		if got := rcodeIndex(rc); got != i {
			t.Errorf("rcodeIndex(%s) = %d, want %d", name, got, i)
		}
	}
}
