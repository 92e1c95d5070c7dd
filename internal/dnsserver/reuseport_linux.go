package dnsserver

import (
	"context"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// haveReusePort says whether several sockets can share one UDP address.
const haveReusePort = true

// listenPacket binds a UDP socket to ap, with SO_REUSEPORT when asked.
func listenPacket(ap netip.AddrPort, reusePort bool) (*net.UDPConn, error) {
	lc := net.ListenConfig{}
	if reusePort {
		lc.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	c, err := lc.ListenPacket(context.Background(), udpNetwork(ap), ap.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}
