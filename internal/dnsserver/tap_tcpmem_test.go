package dnsserver

import (
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestTapTCPConnectionMemory: a client that opens many TCP connections
// at once must not make the tap hold megabytes per connection. Each
// connection's tap reader gets Buffers buffers of Bytes octets, allocated
// up front and kept in a pool for the life of the server, so the peak
// number of concurrent connections (TCPMaxConns, 1000 by default) times
// about 1.2 MiB stays on the heap for good.
func TestTapTCPConnectionMemory(t *testing.T) {
	const conns = 64
	s, addr := startServer(t, Config{UDPReaders: 1, TCPMaxConnsPerClient: conns * 2,
		Tap: TapConfig{Sink: &discardSink{}, Log: true}})
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	var cs []net.Conn
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		co := &dns.Conn{Conn: c}
		if err := co.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := co.ReadMsg(); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	for _, c := range cs {
		c.Close()
	}
	// The server's side of each connection (its handler, buffers) is
	// let go once it has seen the close: measure after that.
	deadline := time.Now().Add(time.Minute)
	for {
		s.tcpc.mu.Lock()
		n := len(s.tcpc.conns)
		s.tcpc.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open on the server", n)
		}
		time.Sleep(time.Millisecond)
	}
	grown := int64(heap()) - int64(before)
	t.Logf("heap grew %d KiB for %d TCP connections (%d KiB each)", grown>>10, conns, grown/conns>>10)
	if per := grown / conns; per > 64<<10 {
		t.Errorf("the tap keeps %d KiB per TCP connection, want at most 64 KiB", per>>10)
	}
}

// batchSink counts the batches and records it is given.
type batchSink struct{ batches, recs atomic.Int64 }

func (s *batchSink) Tap(b []TapRecord) {
	s.batches.Add(1)
	s.recs.Add(int64(len(b)))
}

// TestTapTCPBatches: a TCP connection's records are handed over together
// (here, with the tap's clock standing still, when the connection ends),
// not one batch per query answered.
func TestTapTCPBatches(t *testing.T) {
	frozen := time.Now().Add(time.Hour)
	tapNow = func() time.Time { return frozen }
	defer func() { tapNow = time.Now }()
	sink := &batchSink{}
	_, addr := startServer(t, Config{UDPReaders: 1, Tap: TapConfig{Sink: sink, Log: true}})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	co := &dns.Conn{Conn: c}
	const queries = 5
	for range queries {
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		if err := co.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := co.ReadMsg(); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	deadline := time.Now().Add(time.Minute)
	for sink.recs.Load() < queries {
		if time.Now().After(deadline) {
			t.Fatalf("%d records reached the sink, want %d", sink.recs.Load(), queries)
		}
		time.Sleep(time.Millisecond)
	}
	if n := sink.batches.Load(); n != 1 {
		t.Errorf("%d queries were handed over in %d batches, want 1", queries, n)
	}
}
