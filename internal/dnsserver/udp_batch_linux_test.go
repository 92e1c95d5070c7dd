package dnsserver

import (
	"net/netip"
	"testing"
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
	for _, tc := range []struct {
		sa            *unix.RawSockaddrInet6
		peer, replyTo string
	}{
		{v4([4]byte{192, 0, 2, 1}, 53), "192.0.2.1:53", "192.0.2.1:53"},
		{v4([4]byte{127, 0, 0, 1}, 65535), "127.0.0.1:65535", "127.0.0.1:65535"},
		{v6("2001:db8::1", 5353, 0), "[2001:db8::1]:5353", "[2001:db8::1]:5353"},
		{v6("fe80::1", 40000, 3), "[fe80::1]:40000", "[fe80::1%3]:40000"},
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
