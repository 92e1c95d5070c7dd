package dnsserver

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestWildcardRepliesFromQueriedAddress queries a server bound to the
// wildcard address at a loopback address other than the default one. The
// client's connected socket accepts only a reply from the address it
// queried, so an answer proves the reply left from there.
func TestWildcardRepliesFromQueriedAddress(t *testing.T) {
	for _, bc := range []struct{ listen, query string }{
		{"0.0.0.0:0", "127.0.0.2"},
		{"[::]:0", "::1"},
	} {
		t.Run(bc.listen+"->"+bc.query, func(t *testing.T) {
			if bc.listen == "[::]:0" {
				if c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); err != nil {
					t.Skipf("no IPv6 loopback: %v", err)
				} else {
					c.Close()
				}
			}
			s, _ := startServer(t, Config{Listen: []string{bc.listen}, UDPReaders: 2})
			addr := netip.AddrPortFrom(netip.MustParseAddr(bc.query), s.Addrs()[0].Port())
			m := new(dns.Msg)
			m.SetQuestion("www.example.com.", dns.TypeA)
			r := exchange(t, "udp", addr.String(), m)
			if len(r.Answer) != 2 || !r.Authoritative {
				t.Errorf("answer: %v", r)
			}
		})
	}
}

// TestUDPReusePortSockets binds one socket per reader and answers clients
// on all of them.
func TestUDPReusePortSockets(t *testing.T) {
	s, addr := startServer(t, Config{UDPReaders: 4})
	want := 4
	if !haveReusePort {
		want = 1
	}
	if len(s.udp) != want {
		t.Fatalf("%d UDP sockets, want %d", len(s.udp), want)
	}
	for i := range 40 { // from 40 source ports, spread across the sockets
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		if r := exchange(t, "udp", addr, m); len(r.Answer) != 2 {
			t.Fatalf("query %d: %v", i, r)
		}
	}
}

// TestUDPBurst sends many queries before reading any reply: they are read
// and answered in batches, and every one gets its own answer.
func TestUDPBurst(t *testing.T) {
	_, addr := startServer(t, Config{UDPReaders: 1})
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.UDPConn).SetReadBuffer(1 << 20)
	const n = 100
	names := []string{"www.example.com.", "nope.example.com.", "chain.example.com."}
	for id := range n {
		m := new(dns.Msg)
		m.SetQuestion(names[id%len(names)], dns.TypeA)
		m.Id = uint16(id)
		m.SetEdns0(4096, false)
		pkt, _ := m.Pack()
		if _, err := c.Write(pkt); err != nil {
			t.Fatal(err)
		}
	}
	seen := make(map[uint16]bool)
	buf := make([]byte, 65535)
	c.SetReadDeadline(time.Now().Add(time.Minute))
	for len(seen) < n {
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("after %d replies: %v", len(seen), err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(buf[:k]); err != nil {
			t.Fatal(err)
		}
		if seen[r.Id] {
			t.Fatalf("reply %d twice", r.Id)
		}
		seen[r.Id] = true
		if got, want := r.Question[0].Name, names[int(r.Id)%len(names)]; got != want {
			t.Fatalf("reply %d answers %s, want %s", r.Id, got, want)
		}
	}
}

// TestBothFamiliesOnOnePort binds the IPv4 and the IPv6 wildcard on the
// same port: each listen address serves its own family.
func TestBothFamiliesOnOnePort(t *testing.T) {
	if c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		c.Close()
	}
	s, _ := startServer(t, Config{Listen: []string{"0.0.0.0:0"}})
	port := s.Addrs()[0].Port()
	_, addr6 := startServer(t, Config{Listen: []string{netip.AddrPortFrom(netip.IPv6Unspecified(), port).String()}})
	for _, addr := range []string{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String(), "[::1]" + addr6[len("[::]"):]} {
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		for _, netw := range []string{"udp", "tcp"} {
			if r := exchange(t, netw, addr, m); len(r.Answer) != 2 {
				t.Errorf("%s %s: %v", netw, addr, r)
			}
		}
	}
}
