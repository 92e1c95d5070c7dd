//go:build !linux

package dnsserver

import (
	"net"
	"net/netip"
)

// haveReusePort says whether several sockets can share one UDP address:
// only Linux spreads the datagrams of one address across sockets.
const haveReusePort = false

// listenPacket binds a UDP socket to ap.
func listenPacket(ap netip.AddrPort, _ bool) (*net.UDPConn, error) {
	return net.ListenUDP(udpNetwork(ap), net.UDPAddrFromAddrPort(ap))
}
