package health

import (
	"context"
	"net"
	"sync"
	"time"
)

// tcpProber probes by connecting. The connection of the last successful
// probe stays open with a read pending on it; when the read returns (the
// endpoint closed or reset it, or sent something and then did), the target
// is told at once. Each probe closes the previous connection first, with a
// reset.
type tcpProber struct {
	env   *probeEnv
	conn  *watchedConn // connection of the last successful probe, or nil
	reads sync.WaitGroup
}

func newTCPProber(e *probeEnv) *tcpProber { return &tcpProber{env: e} }

func (p *tcpProber) probe(ctx context.Context) result {
	p.drop()
	ctx, cancel := context.WithTimeout(ctx, p.env.spec.Timeout.D())
	defer cancel()
	start := time.Now() // the RTT is network time: on the system clock, never Options.Clock
	c, err := p.env.dial(ctx)
	if err != nil {
		return p.env.failure(err)
	}
	rtt := time.Since(start)
	if tc, ok := c.(*net.TCPConn); ok {
		// Close with a reset, as load balancers' checks do: a checker that
		// connects every interval to thousands of endpoints must not pile
		// up TIME_WAIT sockets.
		tc.SetLinger(0)
	}
	p.conn = &watchedConn{Conn: c, dead: p.env.idleClosed}
	p.reads.Add(1)
	go p.watch(p.conn)
	return result{ok: true, rtt: rtt}
}

// watch reads from c until the read fails; watchedConn reports a failure
// the checker did not cause.
func (p *tcpProber) watch(c *watchedConn) {
	defer p.reads.Done()
	var buf [512]byte
	for {
		if _, err := c.Read(buf[:]); err != nil {
			return
		}
	}
}

// drop closes the watched connection, if any, and waits for its reader.
func (p *tcpProber) drop() {
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
	p.reads.Wait()
}

func (p *tcpProber) close() { p.drop() }
