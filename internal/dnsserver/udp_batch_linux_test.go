package dnsserver

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestSockaddr reads socket addresses as the kernel writes them: the port
// in network byte order, IPv4 in the smaller structure, and the scope of
// a link-local IPv6 address kept only where a reply is sent.
func TestSockaddr(t *testing.T) {
	v4 := func(a [4]byte, port uint16) *unix.RawSockaddrInet6 {
		var sa unix.RawSockaddrInet6
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sa))
		s4.Family, s4.Addr = unix.AF_INET, a
		p := (*[2]byte)(unsafe.Pointer(&s4.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		return &sa
	}
	v6 := func(a string, port uint16, scope uint32) *unix.RawSockaddrInet6 {
		sa := unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: netip.MustParseAddr(a).As16(), Scope_id: scope}
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		return &sa
	}
	lo, err := net.InterfaceByIndex(1)
	if err != nil {
		t.Skipf("no interface with index 1: %v", err)
	}
	for _, tc := range []struct {
		sa            *unix.RawSockaddrInet6
		peer, replyTo string
	}{
		{v4([4]byte{192, 0, 2, 1}, 53), "192.0.2.1:53", "192.0.2.1:53"},
		{v4([4]byte{127, 0, 0, 1}, 65535), "127.0.0.1:65535", "127.0.0.1:65535"},
		{v6("2001:db8::1", 5353, 0), "[2001:db8::1]:5353", "[2001:db8::1]:5353"},
		{v6("fe80::1", 40000, 1), "[fe80::1]:40000", "[fe80::1%" + lo.Name + "]:40000"},
		{v6("fe80::1", 40000, 1<<30), "[fe80::1]:40000", "[fe80::1%" + strconv.Itoa(1<<30) + "]:40000"},
		{v6("::ffff:192.0.2.7", 1234, 0), "192.0.2.7:1234", "192.0.2.7:1234"},
	} {
		if got := sockaddrPort(tc.sa).String(); got != tc.peer {
			t.Errorf("peer %s, want %s", got, tc.peer)
		}
		if got := sockaddrReplyTo(tc.sa).String(); got != tc.replyTo {
			t.Errorf("reply to %s, want %s", got, tc.replyTo)
		}
	}
}

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
			for _, dst := range tc.dsts {
				c, err := net.DialUDP(udpNetwork(ap), nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(dst), port)))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				clients = append(clients, c)
			}
			for round := range 3 {
				t.Logf("round %d", round)
				batchRound(t, b, u, clients, tc.dsts)
				// What the kernel wrote into the headers last time must not
				// limit the next read.
				for i := range b.in {
					b.in[i].Hdr.Namelen, b.in[i].Hdr.Flags = 0, -1
					b.in[i].Hdr.SetControllen(0)
				}
			}
		})
	}
}

// batchRound sends one datagram from each client, reads and answers them
// through b, and checks each client gets its own reply.
func batchRound(t *testing.T, b *udpBatch, u *udpSocket, clients []*net.UDPConn, dsts []string) {
	t.Helper()
	for i, c := range clients {
		if _, err := c.Write([]byte{byte(i), 'q'}); err != nil {
			t.Fatal(err)
		}
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
				want := replyFromControl(netip.MustParseAddr(dsts[q[0]]))
				if !bytes.Equal(b.replyFrom(i), want) {
					t.Errorf("client %d: reply control %x, want %x (from %s)", q[0], b.replyFrom(i), want, dsts[q[0]])
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
		c.SetReadDeadline(time.Now().Add(time.Minute))
		buf := make([]byte, 16)
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if k != 2 || buf[0] != byte(i) || buf[1] != 'r' {
			t.Errorf("client %d got %q", i, buf[:k])
		}
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

// TestUDPBatchFlushSkipsFailures: a reply the kernel refuses (here to
// port 0: EINVAL) is dropped and the replies around it are still sent.
func TestUDPBatchFlushSkipsFailures(t *testing.T) {
	us, err := listenUDP(netip.MustParseAddrPort("127.0.0.1:0"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer closeUDP(us)
	b := newUDPBatch(us[0])
	addr := us[0].conn.LocalAddr().(*net.UDPAddr)
	var clients []*net.UDPConn
	for i := range 3 {
		c, err := net.DialUDP("udp4", nil, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte{byte(i)})
		clients = append(clients, c)
	}
	n, err := b.read()
	if err != nil || n != 3 {
		t.Fatalf("read %d of 3 datagrams in one batch: %v", n, err)
	}
	var order []byte
	for i := range n {
		order = append(order, b.query(i)[0])
	}
	// The second datagram's peer gets port 0.
	b.peers[1].Port = 0
	for i := range 3 {
		b.queue(i, []byte{order[i], 'r'})
	}
	b.flush()
	for i, c := range clients {
		wait := time.Minute // for a reply that comes
		if byte(i) == order[1] {
			wait = time.Second // for one that must not
		}
		c.SetReadDeadline(time.Now().Add(wait))
		buf := make([]byte, 4)
		_, err := c.Read(buf)
		if byte(i) == order[1] {
			if err == nil {
				t.Errorf("client %d got a reply sent to port 0", i)
			}
			continue
		}
		if err != nil {
			t.Errorf("client %d: %v (the failed reply took the others with it)", i, err)
		}
	}
}
