package dnsserver

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// TestPacketInfoReaders runs the readers used on wildcard sockets (which
// reply from the address each query reached) on loopback sockets, where
// they must behave like the plain reader.
func TestPacketInfoReaders(t *testing.T) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	s, err := New(Config{Listen: []string{"127.0.0.1:0"}}, &src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
			if err != nil {
				t.Skipf("no %s: %v", addr, err)
			}
			l := &udpListener{conn: c}
			if c.LocalAddr().(*net.UDPAddr).IP.To4() != nil {
				l.p4 = ipv4.NewPacketConn(c)
				if err := l.p4.SetControlMessage(ipv4.FlagDst, true); err != nil {
					t.Fatal(err)
				}
			} else {
				l.p6 = ipv6.NewPacketConn(c)
				if err := l.p6.SetControlMessage(ipv6.FlagDst, true); err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan struct{})
			go func() { defer close(done); s.serveUDP(l) }()
			defer func() { c.Close(); <-done }()

			m := new(dns.Msg)
			m.SetQuestion("www.example.com.", dns.TypeA)
			r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, c.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Answer) != 2 || !r.Authoritative {
				t.Errorf("answer: %v", r)
			}
		})
	}
}
