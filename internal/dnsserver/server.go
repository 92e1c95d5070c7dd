package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratusdns/stratus/internal/lograte"
)

// Server is the set of DNS listeners. Create it with New, bind with Start,
// stop with Shutdown.
type Server struct {
	cfg   Config
	src   SnapshotSource
	steer SteeringSource
	log   *slog.Logger
	edge  *edge

	udp []*udpSocket
	tcp []*net.TCPListener
	rrl *rateLimiter // nil: UDP answers are not rate limited
	// stats are the readers' counts for metrics (nil: not counted).
	stats *serverStats

	// ext answers what the query path hands over (nil: transfers are
	// refused and signatures ignored). extSlots bounds the UDP requests
	// it serves at once; ctx ends at shutdown.
	ext      Extended
	extSlots chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc

	anomalies *detector // nil when detection is off
	tap       *tap      // nil when no query is tapped
	wg        sync.WaitGroup
	closing   atomic.Bool
	tcpc      tcpConns
	now       func() time.Time // the clock TCP deadlines are set by
	// limited logs what clients cause (refusals, cuts), rate-limited.
	limited *lograte.Limiter
}

// New returns a server that answers from src, and steered names from steer
// (which may be nil: steered names then answer SERVFAIL). It binds nothing
// until Start.
func New(cfg Config, src SnapshotSource, steer SteeringSource, log *slog.Logger) (*Server, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e, err := newEdge(&c)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stats *serverStats
	if c.Stats {
		stats = newServerStats()
	}
	return &Server{stats: stats, cfg: c, src: src, steer: steer, log: log, edge: e,
		tcpc:     tcpConns{conns: map[*tcpConn]struct{}{}, per: map[netip.Prefix]int{}},
		now:      time.Now,
		limited:  lograte.New(log, 0, 0, nil),
		extSlots: make(chan struct{}, maxExtendedUDP), ctx: ctx, cancel: cancel,
		anomalies: newDetector(c.Anomalies, c.UDPReaders*len(c.Listen), log),
		rrl:       newRateLimiter(c.RRL),
		tap:       newTap(c.Tap, c.UDPReaders*len(c.Listen))}, nil
}

// maxExtendedUDP bounds the signed UDP requests served at once; more are
// dropped, as an overloaded server drops datagrams.
const maxExtendedUDP = 64

// SetExtended hands zone transfers and signed requests to e. Call it
// before Start.
func (s *Server) SetExtended(e Extended) { s.ext = e }

// Start binds every listen address (UDP and TCP on the same port) and
// starts serving. If any address fails, everything bound so far is closed
// and the error names the address.
func (s *Server) Start() error {
	for _, a := range s.cfg.Listen {
		ap := netip.MustParseAddrPort(a)
		tl, ul, err := bindPair(ap, s.cfg.UDPReaders)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("dns: listen on %s: %w", a, err)
		}
		s.tcp = append(s.tcp, tl)
		s.udp = append(s.udp, ul...)
	}
	s.startAnomalies()
	s.startTap()
	if s.rrl != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.logRRL(s.ctx)
		}()
	}
	for _, u := range s.udp {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveUDP(u)
		}()
	}
	for _, tl := range s.tcp {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.acceptTCP(tl)
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.limited.Run(s.ctx)
	}()
	for _, tl := range s.tcp {
		s.log.Info("dns listening", "addr", tl.Addr().String(), "transports", "udp+tcp")
	}
	return nil
}

// bindPair binds TCP and udpSockets UDP sockets on the same address. With
// port 0 the kernel picks the TCP port and UDP takes the same one
// (retrying a few times if that UDP port is taken). The TCP listener is
// bound first and alone: another server already on the port makes it fail,
// before a UDP socket could join that server's SO_REUSEPORT group.
func bindPair(ap netip.AddrPort, udpSockets int) (*net.TCPListener, []*udpSocket, error) {
	for attempt := 0; ; attempt++ {
		tl, err := net.ListenTCP(tcpNetwork(ap), net.TCPAddrFromAddrPort(ap))
		if err != nil {
			return nil, nil, err
		}
		port := tl.Addr().(*net.TCPAddr).AddrPort().Port()
		ul, err := listenUDP(netip.AddrPortFrom(ap.Addr(), port), udpSockets)
		if err == nil {
			return tl, ul, nil
		}
		tl.Close()
		if ap.Port() != 0 || attempt >= 10 {
			return nil, nil, err
		}
	}
}

// Addrs returns the bound addresses, one per listen address (UDP and TCP
// share it).
func (s *Server) Addrs() []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(s.tcp))
	for _, tl := range s.tcp {
		out = append(out, tl.Addr().(*net.TCPAddr).AddrPort())
	}
	return out
}

func (s *Server) closeListeners() {
	for _, tl := range s.tcp {
		tl.Close()
	}
	closeUDP(s.udp)
}

// Shutdown stops accepting queries, lets TCP connections finish the query
// they are answering, and returns when every goroutine has ended or ctx is
// done (then the remaining connections are closed at once).
func (s *Server) Shutdown(ctx context.Context) error {
	if s.closing.Swap(true) {
		return nil
	}
	s.cancel()
	s.closeListeners()
	s.wakeTCP() // wake idle reads
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		s.tap.stop() // what the readers tapped last
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.closeTCP()
		<-done
		return ctx.Err()
	}
}

func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

// Components named to Config.OnPanic.
const (
	panicUDP      = "dns_udp"
	panicTCP      = "dns_tcp"
	panicHandOver = "dns_handover"
)

// panicked reports a panic recovered in component: logged at ERROR with
// its stack (rate-limited, as a poisoned query may come again and
// again), then passed to Config.OnPanic. The query path has no defer per
// query: a UDP reader recovers once per panic, a TCP connection once.
func (s *Server) panicked(component string, recovered any) {
	stack := debug.Stack()
	s.limited.Log(slog.LevelError, "panic recovered", "component", component, "panic", fmt.Sprint(recovered), "stack", string(stack))
	if s.cfg.OnPanic != nil {
		s.cfg.OnPanic(component, recovered, stack)
	}
}

// queryHook, when set (by tests), is called after each query a UDP reader
// or TCP connection has served, with the handler that served it.
var queryHook func(h *handler)
