package dnsserver

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkServeTap is the reader's side of the tap: a query answered and
// tapped (batches of 8 datagrams, as a reader reads them), with the tap
// off, the query log at 1% and 100%, and dnstap, the writer handing the
// buffers to a sink that discards them. The difference to "off" is what
// the tap costs the reader per query; the outputs' own cost (a JSON
// line, two protobuf messages) is on the writer's goroutine.
func BenchmarkServeTap(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  TapConfig
	}{
		{"off", TapConfig{}},
		{"log1", TapConfig{Log: true, SampleRate: 0.01}},
		{"log100", TapConfig{Log: true}},
		{"dnstap", TapConfig{Dnstap: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := testHandler(b)
			pkt := packQuery(b, "www.example.com.", dns.TypeA)
			var r *tapReader
			if bc.cfg.Log || bc.cfg.Dnstap {
				bc.cfg.Sink = &discardSink{}
				tp := newTap(bc.cfg, 1)
				tp.started = true
				go tp.run()
				defer tp.stop()
				r = tp.newReader()
			}
			b.ReportAllocs()
			i := 0
			var received time.Time
			for b.Loop() {
				if i%8 == 0 {
					if r != nil {
						received = time.Now()
					}
				}
				r.add(h, pkt, h.serve(pkt, tapClient.Addr(), false), tapClient, false, received)
				if i%8 == 7 {
					r.batchDone(received)
				}
				i++
			}
		})
	}
}

// TestTapHandOffPace: a reader sampling 1% of a steady load hands its
// records over about every tapHandOffEvery (each hand-over wakes the
// writer), not every few milliseconds: over one second of batches of 8
// queries a millisecond apart, at most a dozen hand-overs.
func TestTapHandOffPace(t *testing.T) {
	sink := &batchSink{}
	tp := newTap(TapConfig{Sink: sink, Log: true, SampleRate: 0.01}, 1)
	tp.started = true
	go tp.run()
	r := tp.newReader()
	h := testHandler(t)
	pkt := packQuery(t, "www.example.com.", dns.TypeA)
	now := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	r.last = now
	for range 1000 {
		for range 8 {
			r.add(h, pkt, h.serve(pkt, tapClient.Addr(), false), tapClient, false, now)
		}
		r.batchDone(now)
		now = now.Add(time.Millisecond)
	}
	tp.stop()
	if sink.recs.Load() != 80 {
		t.Errorf("%d records, want 80", sink.recs.Load())
	}
	if n := sink.batches.Load(); n > 12 {
		t.Errorf("%d hand-overs in a second of queries sampled at 1%%, want at most 12", n)
	}
}
