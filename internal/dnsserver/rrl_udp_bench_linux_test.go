package dnsserver

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// BenchmarkUDPRRL is the query rate through a real UDP socket with rate
// limiting on (rrl=on, at a rate no client reaches, so every answer is
// accounted and none limited) and off: one reader, 8 clients on
// different loopback networks (127.0.<i>.1) with 8 queries in flight
// each, all from this process. It reports queries per second (q/s) and
// the process's CPU time per query (cpu-ns/q), which a busy machine
// disturbs less than the rate.
func BenchmarkUDPRRL(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "rrl=off"
		if on {
			name = "rrl=on"
		}
		b.Run(name, func(b *testing.B) {
			cfg := Config{UDPReaders: 1, RRL: RRLConfig{Disabled: !on, ResponsesPerSecond: 1_000_000}}
			addr := startBenchServer(b, cfg)
			ap := netip.MustParseAddrPort(addr)
			const clients, inFlight = 8, 8
			conns := make([]*net.UDPConn, clients)
			for i := range conns {
				c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, byte(i), 1}), 0)),
					net.UDPAddrFromAddrPort(ap))
				if err != nil {
					b.Fatal(err)
				}
				c.SetReadBuffer(1 << 20)
				defer c.Close()
				conns[i] = c
			}
			names := []string{"www.example.com.", "mx.example.com.", "nope.example.com.", "x.wild.example.com."}
			pkts := make([][]byte, len(names))
			for i, n := range names {
				pkts[i] = query(b, n, dns.TypeA)
			}
			var done atomic.Int64
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N/clients + 1
			for i, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					buf := make([]byte, 65535)
					sent, got := 0, 0
					for got < per {
						for sent < per && sent-got < inFlight {
							c.Write(pkts[(i+sent)%len(pkts)])
							sent++
						}
						c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
						if _, err := c.Read(buf); err != nil {
							sent = got // lost: send again
							continue
						}
						got++
					}
					done.Add(int64(got))
				}()
			}
			wg.Wait()
			b.StopTimer()
			n := float64(done.Load())
			b.ReportMetric(n/b.Elapsed().Seconds(), "q/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/n, "cpu-ns/q")
		})
	}
}

// cpuTime returns the CPU time the process has used, in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// startBenchServer runs a server answering example.com. on a free
// loopback port until the benchmark ends.
func startBenchServer(b *testing.B, cfg Config) string {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(b, map[string]string{"example.com.": zonetest.ExampleCom}))
	cfg.Listen = []string{"127.0.0.1:0"}
	s, err := New(cfg, &src, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s.Addrs()[0].String()
}
