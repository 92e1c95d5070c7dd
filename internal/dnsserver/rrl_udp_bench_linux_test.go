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

// BenchmarkUDPRRL compares the query rate through real UDP sockets with
// rate limiting on (at a rate no client reaches, so every answer is
// accounted and none limited) and off: two servers of one reader each,
// asked in alternate rounds of 8 clients on different loopback networks
// (127.0.<i>.1) with 8 queries in flight each, so that the load of a
// busy machine falls on both alike. It reports each one's queries a
// second (q/s-on, q/s-off), their ratio (on/off), and the process's CPU
// time per query in each one's rounds (cpu-ns/q-on, cpu-ns/q-off).
func BenchmarkUDPRRL(b *testing.B) {
	benchUDPPair(b,
		Config{UDPReaders: 1, RRL: RRLConfig{Disabled: true}},
		Config{UDPReaders: 1, RRL: RRLConfig{ResponsesPerSecond: 1_000_000}})
}

// BenchmarkUDPMetrics compares the query rate through real UDP sockets
// with counting for metrics on and off (rate limiting off in both), as
// BenchmarkUDPRRL does.
func BenchmarkUDPMetrics(b *testing.B) {
	benchUDPPair(b,
		Config{UDPReaders: 1, RRL: RRLConfig{Disabled: true}},
		Config{UDPReaders: 1, RRL: RRLConfig{Disabled: true}, Stats: true})
}

// benchUDPPair runs the rounds of BenchmarkUDPRRL against a server with
// the configuration off and one with on.
func benchUDPPair(b *testing.B, offCfg, onCfg Config) {
	type side struct {
		conns     []*net.UDPConn
		n, lost   int64
		wall, cpu time.Duration
	}
	names := []string{"www.example.com.", "mx.example.com.", "nope.example.com.", "x.wild.example.com."}
	pkts := make([][]byte, len(names))
	for i, n := range names {
		pkts[i] = query(b, n, dns.TypeA)
	}
	const clients, inFlight, round = 8, 8, 256 // queries per client and round
	var sides [2]*side                         // off, on
	for k, cfg := range []Config{offCfg, onCfg} {
		addr := startBenchServer(b, cfg)
		ap := netip.MustParseAddrPort(addr)
		sd := &side{}
		for i := range clients {
			c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, byte(i), 1}), 0)),
				net.UDPAddrFromAddrPort(ap))
			if err != nil {
				b.Fatal(err)
			}
			c.SetReadBuffer(1 << 20)
			b.Cleanup(func() { c.Close() })
			sd.conns = append(sd.conns, c)
		}
		sides[k] = sd
	}
	run := func(sd *side) {
		cpu0, t0 := cpuTime(), time.Now()
		var wg sync.WaitGroup
		var got, lost atomic.Int64
		for i, c := range sd.conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 65535)
				sent, recv := 0, 0
				for recv < round {
					for sent < round && sent-recv < inFlight {
						c.Write(pkts[(i+sent)%len(pkts)])
						sent++
					}
					c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
					if _, err := c.Read(buf); err != nil {
						lost.Add(int64(sent - recv))
						sent = recv // lost: send again
						continue
					}
					recv++
				}
				got.Add(int64(recv))
			}()
		}
		wg.Wait()
		sd.wall += time.Since(t0)
		sd.cpu += time.Duration(cpuTime() - cpu0)
		sd.n += got.Load()
		sd.lost += lost.Load()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i*clients*round < b.N; i++ {
		run(sides[i%2])
		run(sides[(i+1)%2])
	}
	b.StopTimer()
	off, on := sides[0], sides[1]
	qps := func(sd *side) float64 { return float64(sd.n) / sd.wall.Seconds() }
	b.ReportMetric(qps(off), "q/s-off")
	b.ReportMetric(qps(on), "q/s-on")
	b.ReportMetric(qps(on)/qps(off), "on/off")
	b.ReportMetric(float64(off.cpu)/float64(off.n), "cpu-ns/q-off")
	b.ReportMetric(float64(on.cpu)/float64(on.n), "cpu-ns/q-on")
	b.ReportMetric(float64(off.lost), "lost-off")
	b.ReportMetric(float64(on.lost), "lost-on")
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
