package dnsserver

import (
	"fmt"
	"net/netip"
	"runtime"
	"time"

	"github.com/stratusdns/stratus/internal/dnsconst"
)

// Config says where and how to listen. The zero value of a field means its
// default.
type Config struct {
	// Listen holds host:port addresses; each gets a UDP and a TCP listener.
	Listen []string
	// UDPSize is the EDNS(0) payload size advertised and the most sent over
	// UDP (default 1232, DNS Flag Day 2020).
	UDPSize int
	// UDPReaders is the number of UDP sockets bound to each listen address
	// (with SO_REUSEPORT), each read by one goroutine in batches (default:
	// one per CPU the process may use, GOMAXPROCS).
	UDPReaders int
	// TCPIdleTimeout closes a TCP connection that sends no query for this
	// long (default 10s, RFC 7766 section 6.2.3).
	TCPIdleTimeout time.Duration
	// TCPMaxConns caps concurrent TCP connections; more are closed at once
	// (default 1000).
	TCPMaxConns int
	// Anomalies says when to report floods and spikes (on by default).
	Anomalies AnomalyConfig
	// TCPMaxConnsPerClient caps the TCP connections of one client, an IPv4
	// address or an IPv6 /64; more are closed at once (default 10: a
	// resolver pipelines its queries over one or two connections, and a
	// secondary transfers a few zones at once).
	TCPMaxConnsPerClient int
	// TCPMessageTimeout bounds the time from the first octet of a message
	// (its length prefix) to its last (default 2s).
	TCPMessageTimeout time.Duration
	// TCPBusyIdleTimeout replaces TCPIdleTimeout while more than half of
	// TCPMaxConns are open (default 1s; never more than TCPIdleTimeout).
	TCPBusyIdleTimeout time.Duration
	// TCPLimitExempt lists networks whose clients TCPMaxConnsPerClient does
	// not limit (a resolver farm behind one address, say).
	TCPLimitExempt []netip.Prefix
	// Cookies configures DNS Cookies (default: on, with a random secret).
	Cookies Cookies
	// Identity is sent to queries asking for NSID (RFC 5001) and answers
	// CH TXT id.server and hostname.bind (at most MaxIdentity octets;
	// empty: none, and REFUSED).
	Identity string
	// Version answers CH TXT version.bind and version.server (empty:
	// REFUSED).
	Version string
	// RRL limits the rate of UDP answers per client network (on by
	// default; see RRLConfig).
	RRL RRLConfig
	// Stats turns on the counts Server.Stats reports (default off: the
	// query path counts nothing).
	Stats bool
	// Tap copies answered queries for the query log and dnstap (off
	// without a sink).
	Tap TapConfig
	// OnPanic, when set, is told of every panic the server recovered
	// from (after it has logged it with its stack): component is
	// dns_udp (a UDP reader, which goes on with a fresh handler),
	// dns_tcp (a TCP connection, which is closed) or dns_handover (a
	// request handed to the Extended handler over UDP, dropped). It is
	// called on the goroutine that panicked.
	OnPanic func(component string, recovered any, stack []byte)
}

// Defaults.
const (
	DefaultTCPIdleTimeout = 10 * time.Second
	DefaultTCPMaxConns    = 1000

	DefaultTCPMaxConnsPerClient = 10
	DefaultTCPMessageTimeout    = 2 * time.Second
	DefaultTCPBusyIdleTimeout   = time.Second
)

func (c *Config) withDefaults() (Config, error) {
	out := *c
	if len(out.Listen) == 0 {
		return out, fmt.Errorf("dns: no listen address")
	}
	for _, a := range out.Listen {
		if _, err := netip.ParseAddrPort(a); err != nil {
			return out, fmt.Errorf("dns: listen address %q: want ip:port (%v)", a, err)
		}
	}
	if out.UDPSize == 0 {
		out.UDPSize = dnsconst.DefaultUDPSize
	}
	if out.UDPSize < dnsconst.MinUDPSize || out.UDPSize > dnsconst.MaxUDPSize {
		return out, fmt.Errorf("dns: udp payload size %d is outside %d..%d", out.UDPSize, dnsconst.MinUDPSize, dnsconst.MaxUDPSize)
	}
	if out.UDPReaders <= 0 {
		out.UDPReaders = runtime.GOMAXPROCS(0)
	}
	if out.TCPIdleTimeout <= 0 {
		out.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if out.TCPMaxConns <= 0 {
		out.TCPMaxConns = DefaultTCPMaxConns
	}
	if out.TCPMaxConnsPerClient <= 0 {
		out.TCPMaxConnsPerClient = DefaultTCPMaxConnsPerClient
	}
	if out.TCPMessageTimeout <= 0 {
		out.TCPMessageTimeout = DefaultTCPMessageTimeout
	}
	if out.TCPBusyIdleTimeout <= 0 {
		out.TCPBusyIdleTimeout = DefaultTCPBusyIdleTimeout
	}
	for _, p := range out.TCPLimitExempt {
		if !p.IsValid() {
			return out, fmt.Errorf("dns: tcp limit exemption %v is not a network", p)
		}
	}
	var err error
	if out.Anomalies, err = out.Anomalies.withDefaults(); err != nil {
		return out, err
	}
	var rrl RRLConfig
	rrl, err = out.RRL.withDefaults()
	if err != nil {
		return out, err
	}
	out.RRL = rrl
	return out, nil
}
