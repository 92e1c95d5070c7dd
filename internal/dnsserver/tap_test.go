package dnsserver

import (
	"bytes"
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// recordingSink keeps copies of what it is given.
type recordingSink struct {
	mu   sync.Mutex
	recs []TapRecord
}

func (s *recordingSink) Tap(batch []TapRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range batch {
		r.Qname = bytes.Clone(r.Qname)
		r.Query, r.Response = bytes.Clone(r.Query), bytes.Clone(r.Response)
		s.recs = append(s.recs, r)
	}
}

func (s *recordingSink) records() []TapRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TapRecord(nil), s.recs...)
}

// blockingSink holds the writer until release is closed.
type blockingSink struct{ release chan struct{} }

func (s *blockingSink) Tap([]TapRecord) { <-s.release }

type discardSink struct{ n atomic.Int64 }

func (s *discardSink) Tap(b []TapRecord) { s.n.Add(int64(len(b))) }

func packQuery(t testing.TB, name string, qtype uint16) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, false)
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

func testHandler(t testing.TB) *handler {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	return newHandler(&src, nil, 1232, false)
}

var tapClient = netip.MustParseAddrPort("192.0.2.7:5353")

// TestTapRecords: over UDP and TCP, the tap hands the sink each answered
// query with its client, transport, question, zone, header bits and
// (for dnstap) both messages.
func TestTapRecords(t *testing.T) {
	sink := &recordingSink{}
	s, addr := startServer(t, Config{UDPReaders: 1, Tap: TapConfig{Sink: sink, Log: true, Dnstap: true}})
	for _, netw := range []string{"udp", "tcp"} {
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		exchange(t, netw, addr, m)
		m.SetQuestion("nope.example.com.", dns.TypeAAAA)
		exchange(t, netw, addr, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	recs := sink.records()
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4: %+v", len(recs), recs)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		transport := "udp"
		if r.TCP {
			transport = "tcp"
		}
		var q, resp dns.Msg
		if err := q.Unpack(r.Query); err != nil {
			t.Fatalf("query: %v", err)
		}
		if err := resp.Unpack(r.Response); err != nil {
			t.Fatalf("response: %v", err)
		}
		name := q.Question[0].Name
		seen[transport+" "+name] = true
		if !r.Log || !r.Dnstap || r.Client.Addr() != netip.MustParseAddr("127.0.0.1") || r.Client.Port() == 0 {
			t.Errorf("%s %s: %+v", transport, name, r)
		}
		if r.Zone != "example.com." || !r.AA || r.TC || r.Size != len(r.Response) || r.Qclass != dns.ClassINET {
			t.Errorf("%s %s: zone %q aa %v tc %v size %d", transport, name, r.Zone, r.AA, r.TC, r.Size)
		}
		if int(r.Rcode) != resp.Rcode || r.Qtype != q.Question[0].Qtype || resp.Id != q.Id {
			t.Errorf("%s %s: rcode %d qtype %d, messages say %d %d", transport, name, r.Rcode, r.Qtype, resp.Rcode, q.Question[0].Qtype)
		}
		if r.Answered.Before(r.Received) || r.Received.IsZero() {
			t.Errorf("%s %s: received %v answered %v", transport, name, r.Received, r.Answered)
		}
	}
	for _, k := range []string{"udp www.example.com.", "udp nope.example.com.", "tcp www.example.com.", "tcp nope.example.com."} {
		if !seen[k] {
			t.Errorf("no record of %s", k)
		}
	}
}

// TestTapIdleReaderHandsOver: the records of a UDP reader that stops
// receiving queries reach the sink without more queries or a shutdown.
func TestTapIdleReaderHandsOver(t *testing.T) {
	sink := &recordingSink{}
	_, addr := startServer(t, Config{UDPReaders: 1, Tap: TapConfig{Sink: sink, Log: true}})
	for range 3 { // the first is handed over at once, the others wait
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		exchange(t, "udp", addr, m)
	}
	for deadline := time.Now().Add(time.Minute); len(sink.records()) < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 records handed over", len(sink.records()))
		}
	}
}

// TestTapSampling: a reader takes exactly floor(n*rate) of n queries for
// the query log, and copies no messages for it.
func TestTapSampling(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		n    int
		want int
	}{
		{0.5, 1000, 500}, {0.01, 1000, 10}, {0.25, 7, 1}, {0, 100, 100}, {1, 100, 100},
	} {
		sink := &recordingSink{}
		tp := newTap(TapConfig{Sink: sink, Log: true, SampleRate: tc.rate}, 1)
		tp.started = true
		go tp.run()
		r := tp.newReader()
		h := testHandler(t)
		pkt := packQuery(t, "www.example.com.", dns.TypeA)
		for range tc.n {
			r.add(h, pkt, h.serve(pkt, tapClient.Addr(), false), tapClient, false, time.Now())
		}
		tp.stop()
		recs := sink.records()
		if len(recs) != tc.want {
			t.Errorf("rate %v over %d: %d records, want %d", tc.rate, tc.n, len(recs), tc.want)
		}
		for _, rec := range recs {
			if !rec.Log || rec.Dnstap || rec.Query != nil || rec.Response != nil || string(rec.Qname) != "\x03www\x07example\x03com\x00" {
				t.Fatalf("record %+v", rec)
			}
		}
	}
}

// TestTapDropsWhenWriterIsBehind: with the writer stuck, the reader goes
// on without waiting and counts what it could not keep.
func TestTapDropsWhenWriterIsBehind(t *testing.T) {
	sink := &blockingSink{release: make(chan struct{})}
	s := &Server{tap: newTap(TapConfig{Sink: sink, Log: true, Dnstap: true, Records: 4, Buffers: 2}, 1)}
	s.startTap()
	r := s.tapReader()
	h := testHandler(t)
	pkt := packQuery(t, "www.example.com.", dns.TypeA)
	const n = 1000
	for range n {
		r.add(h, pkt, h.serve(pkt, tapClient.Addr(), false), tapClient, false, time.Now())
	}
	r.handOff()
	logDropped, dtDropped := s.TapDropped()
	// At most the buffers there are (one held by the writer, one in its
	// queue, one being filled) hold records; the rest are dropped.
	if logDropped != dtDropped || logDropped < n-3*4 || logDropped > n {
		t.Errorf("dropped %d (log) %d (dnstap) of %d", logDropped, dtDropped, n)
	}
	close(sink.release)
	s.tap.stop()
}

// TestTapAllocations: with a tap, answering and copying a query still
// allocates nothing (the copy goes into the reader's buffers).
func TestTapAllocations(t *testing.T) {
	for _, cfg := range []TapConfig{
		{Log: true}, {Log: true, SampleRate: 0.01}, {Dnstap: true}, {Log: true, Dnstap: true},
	} {
		sink := &discardSink{}
		cfg.Sink = sink
		cfg.Records = 8 // hand over often
		tp := newTap(cfg, 1)
		tp.started = true
		go tp.run()
		r := tp.newReader()
		h := testHandler(t)
		pkt := packQuery(t, "www.example.com.", dns.TypeA)
		now := time.Now()
		if n := testing.AllocsPerRun(500, func() {
			r.add(h, pkt, h.serve(pkt, tapClient.Addr(), false), tapClient, false, now)
			r.batchDone(now)
			r.handOff()
		}); n > 0 {
			t.Errorf("%+v: %v allocations per query, budget 0", cfg, n)
		}
		tp.stop()
		if sink.n.Load() == 0 {
			t.Errorf("%+v: nothing reached the sink", cfg)
		}
	}
}

// TestNoTapNoWork: without a sink the server has no tap, and a reader's
// tap calls do nothing.
func TestNoTapNoWork(t *testing.T) {
	for _, cfg := range []TapConfig{{}, {Log: true}, {Sink: &discardSink{}}} {
		if newTap(cfg, 1) != nil {
			t.Errorf("%+v made a tap", cfg)
		}
	}
	var r *tapReader
	h := testHandler(t)
	pkt := packQuery(t, "www.example.com.", dns.TypeA)
	if n := testing.AllocsPerRun(100, func() {
		r.add(h, pkt, h.serve(pkt, tapClient.Addr(), false), tapClient, false, r.now())
		r.handOff()
	}); n > 0 {
		t.Errorf("%v allocations without a tap", n)
	}
}
