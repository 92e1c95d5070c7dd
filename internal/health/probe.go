package health

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// result is the outcome of one probe.
type result struct {
	ok   bool
	hard bool // a failure to reach the endpoint at all: confirm at once
	// timeout: the failure is the probe's timeout (a hard failure)
	timeout bool
	err     string        // short, human reason of a failure
	rtt     time.Duration // duration of a successful probe
	at      probeTimes    // when it ran, for tracing (zero in tests)
}

// prober runs one kind of probe against one target. It knows nothing of
// thresholds or scheduling. probe is never called concurrently with
// itself; close releases what the prober keeps (idle or watched
// connections) and is called once, after the last probe.
type prober interface {
	probe(ctx context.Context) result
	close()
}

// probeEnv is what a prober needs from the checker and its target.
type probeEnv struct {
	target   Target
	spec     model.CheckSpec // normalized copy of target.Check
	resolver *net.Resolver
	ua       string
	roots    *x509.CertPool // trusted roots; nil: the system's
	// idleClosed is called when a watched connection is closed by the
	// endpoint while no probe is running.
	idleClosed func()
}

// failure builds the result of a failed probe from a transport error.
func (e *probeEnv) failure(err error) result {
	msg, hard := describe(err, e.spec.Timeout.D())
	return result{err: msg, hard: hard, timeout: timedOut(err)}
}

// softFailure builds the result of a probe that reached the endpoint but
// did not like its answer: it waits for the next interval.
func softFailure(format string, args ...any) result {
	return result{err: fmt.Sprintf(format, args...)}
}

// newProber returns the prober for a target's check type, or nil for the
// types that are not probed (push, none).
func newProber(e *probeEnv) (prober, error) {
	switch e.spec.Type {
	case model.CheckHTTP, model.CheckHTTPS:
		return newHTTPProber(e), nil
	case model.CheckTCP:
		if e.port() == 0 {
			return nil, fmt.Errorf("tcp check of %s has no port", e.target.Host)
		}
		return newTCPProber(e), nil
	case model.CheckDNS:
		return newDNSProber(e)
	case model.CheckPush, model.CheckNone:
		return nil, nil
	}
	return nil, fmt.Errorf("unknown check type %q", e.spec.Type)
}

// port is the port probed: the target's, else the check's, else the
// type's default.
func (e *probeEnv) port() uint16 {
	switch {
	case e.target.Port != 0:
		return e.target.Port
	case e.spec.Port != 0:
		return e.spec.Port
	}
	switch e.spec.Type {
	case model.CheckHTTP:
		return 80
	case model.CheckHTTPS:
		return 443
	case model.CheckDNS:
		return 53
	}
	return 0
}

// addr returns the address to connect to: the target's IP address, or
// its hostname resolved now (the first address the resolver returns).
func (e *probeEnv) addr(ctx context.Context) (string, error) {
	port := strconv.Itoa(int(e.port()))
	if ip, err := netip.ParseAddr(e.target.Host); err == nil {
		return net.JoinHostPort(ip.Unmap().String(), port), nil
	}
	ips, err := e.resolver.LookupNetIP(ctx, "ip", e.target.Host)
	if err != nil {
		return "", &resolveError{host: e.target.Host, err: err}
	}
	if len(ips) == 0 {
		return "", &resolveError{host: e.target.Host, err: fmt.Errorf("no addresses")}
	}
	return net.JoinHostPort(ips[0].Unmap().String(), port), nil
}

// dial connects to the target over TCP.
func (e *probeEnv) dial(ctx context.Context) (net.Conn, error) {
	addr, err := e.addr(ctx)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}
