package dnsserver

import (
	"net"
	"runtime"
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
	_ = s
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
	grown := int64(heap()) - int64(before)
	t.Logf("heap grew %d KiB for %d TCP connections (%d KiB each)", grown>>10, conns, grown/conns>>10)
	if per := grown / conns; per > 64<<10 {
		t.Errorf("the tap keeps %d KiB per TCP connection, want at most 64 KiB", per>>10)
	}
}
