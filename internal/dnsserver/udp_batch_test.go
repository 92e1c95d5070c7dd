package dnsserver

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestUDPBatch drives one reader's batch directly: datagrams from several
// clients are read in one batch with each client's address and the
// address it was sent to, and each reply reaches its own client.
func TestUDPBatch(t *testing.T) {
	for _, tc := range []struct {
		listen string
		dsts   []string // addresses the clients send to
	}{
		{"127.0.0.1:0", []string{"127.0.0.1", "127.0.0.1", "127.0.0.1"}},
		{"0.0.0.0:0", []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}},
		{"[::1]:0", []string{"::1", "::1"}},
		{"[::]:0", []string{"::1", "::1"}},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			ap := netip.MustParseAddrPort(tc.listen)
			if ap.Addr().Is6() && !haveIPv6Loopback() {
				t.Skip("no IPv6 loopback")
			}
			us, err := listenUDP(ap, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer closeUDP(us)
			u := us[0]
			port := u.conn.LocalAddr().(*net.UDPAddr).AddrPort().Port()
			b := newUDPBatch(u)

			var clients []*net.UDPConn
			for i, dst := range tc.dsts {
				c, err := net.DialUDP(udpNetwork(ap), nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(dst), port)))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if _, err := c.Write([]byte{byte(i), 'q'}); err != nil {
					t.Fatal(err)
				}
				clients = append(clients, c)
			}
			got := 0
			for got < len(clients) {
				n, err := b.read()
				if err != nil {
					t.Fatal(err)
				}
				for i := range n {
					q := b.query(i)
					if len(q) != 2 || q[1] != 'q' || int(q[0]) >= len(clients) {
						t.Fatalf("datagram %d: %q", i, q)
					}
					c := clients[q[0]]
					if want := c.LocalAddr().(*net.UDPAddr).AddrPort(); b.peer(i) != want {
						t.Errorf("peer of client %d: %v, want %v", q[0], b.peer(i), want)
					}
					if u.pktinfo {
						want := replyFromControl(netip.MustParseAddr(tc.dsts[q[0]]))
						if !bytes.Equal(b.replyFrom(i), want) {
							t.Errorf("client %d: reply control %x, want %x (from %s)", q[0], b.replyFrom(i), want, tc.dsts[q[0]])
						}
					} else if b.replyFrom(i) != nil {
						t.Errorf("a socket bound to one address has a reply control message")
					}
					b.queue(i, []byte{q[0], 'r'})
				}
				b.flush()
				got += n
			}
			// A connected client accepts only a reply from the address it
			// sent to, so a reply proves where it left from.
			for i, c := range clients {
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 16)
				k, err := c.Read(buf)
				if err != nil {
					t.Fatalf("client %d: %v", i, err)
				}
				if k != 2 || buf[0] != byte(i) || buf[1] != 'r' {
					t.Errorf("client %d got %q", i, buf[:k])
				}
			}
		})
	}
}

// TestUDPBatchNoAllocs: a query read and its reply written cost no
// allocation on the reader's side.
func TestUDPBatchNoAllocs(t *testing.T) {
	us, err := listenUDP(netip.MustParseAddrPort("0.0.0.0:0"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer closeUDP(us)
	b := newUDPBatch(us[0])
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: us[0].conn.LocalAddr().(*net.UDPAddr).Port})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q, buf := []byte("query"), make([]byte, 16)
	roundTrip := func() {
		if _, err := c.Write(q); err != nil {
			t.Fatal(err)
		}
		n, err := b.read()
		if err != nil || n != 1 {
			t.Fatalf("read %d: %v", n, err)
		}
		b.replyFrom(0)
		b.peer(0)
		b.queue(0, b.query(0))
		b.flush()
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip()
	if a := testing.AllocsPerRun(200, roundTrip); a > 0 {
		t.Errorf("%.1f allocations per query", a)
	}
}

func haveIPv6Loopback() bool {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		return false
	}
	c.Close()
	return true
}
