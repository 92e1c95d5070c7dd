package health

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// maxBody is how much of a response body an HTTP probe reads.
const maxBody = 64 << 10

// httpProber probes an HTTP or HTTPS endpoint. The request names the
// endpoint's ServerName (or the check's Host) in its URL, Host header and
// TLS SNI, but the connection always goes to the target's address. One
// transport per target keeps one connection alive across probes, and that
// connection is watched (see watchedConn). An endpoint that closes its
// connections after each response leaves nothing to watch, and nothing is
// held open to it: an idle connection that never carries a request is
// what servers log as an error, or wait on with their only thread.
type httpProber struct {
	env    *probeEnv
	method string
	url    string
	host   string // Host header
	header http.Header
	tlsCfg *tls.Config
	tr     *http.Transport
	client *http.Client
	// The transport dials with a context detached from the request's
	// cancellation and deadline; dials are bounded by the check's timeout
	// and by the prober's life, which close ends.
	life    context.Context
	endLife context.CancelFunc
}

func newHTTPProber(e *probeEnv) *httpProber {
	spec := &e.spec
	name := httpName(e)
	port := e.port()
	hostport := name
	if strings.Contains(name, ":") { // an IPv6 address
		hostport = "[" + name + "]"
	}
	if !(spec.Type == model.CheckHTTP && port == 80) && !(spec.Type == model.CheckHTTPS && port == 443) {
		hostport = net.JoinHostPort(name, strconv.Itoa(int(port)))
	}
	p := &httpProber{
		env:    e,
		method: spec.Method,
		url:    spec.Type + "://" + hostport + spec.Path,
		host:   hostport,
		header: make(http.Header, len(spec.Headers)+1),
	}
	p.life, p.endLife = context.WithCancel(context.Background())
	for k, v := range spec.Headers {
		if strings.EqualFold(k, "Host") {
			p.host = v
			continue
		}
		p.header.Set(k, v)
	}
	ua := spec.UserAgent
	if ua == "" {
		ua = e.ua
	}
	p.header.Set("User-Agent", ua)

	interval := spec.Interval.D()
	p.tr = &http.Transport{
		Proxy:                  nil, // always connect to the endpoint itself
		MaxIdleConns:           1,
		MaxIdleConnsPerHost:    1,
		IdleConnTimeout:        2*interval + time.Second, // outlives the gap between probes
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	if spec.Type == model.CheckHTTPS {
		p.tlsCfg = &tls.Config{
			ServerName:         name,
			InsecureSkipVerify: spec.TLSVerify != nil && !*spec.TLSVerify,
			RootCAs:            e.roots,
			NextProtos:         []string{"http/1.1"},
			ClientSessionCache: tls.NewLRUClientSessionCache(1),
		}
		p.tr.DialTLSContext = p.dialTLS
	} else {
		p.tr.DialContext = p.dialPlain
	}
	p.client = &http.Client{
		Transport: p.tr,
		// A redirect is an answer: it is judged by its status.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return p
}

// httpName is the name an HTTP probe asks for: the check's Host, else the
// endpoint's ServerName, else the target's address, without a final dot.
func httpName(e *probeEnv) string {
	name := e.spec.Host
	if name == "" {
		name = e.target.ServerName
	}
	if name == "" {
		name = e.target.Host
	}
	return strings.TrimSuffix(name, ".")
}

// dialPlain connects to the target's address, whatever the URL says, and
// watches the connection.
func (p *httpProber) dialPlain(ctx context.Context, _, _ string) (net.Conn, error) {
	ctx, cancel := p.dialContext(ctx)
	defer cancel()
	c, err := p.env.dial(ctx)
	if err != nil {
		return nil, err
	}
	return &watchedConn{Conn: c, dead: p.env.idleClosed}, nil
}

// dialTLS connects to the target's address and runs the TLS handshake
// with the probe's name as SNI. The TLS connection, not the raw one, is
// watched: a close_notify from the endpoint ends reads there.
func (p *httpProber) dialTLS(ctx context.Context, _, _ string) (net.Conn, error) {
	ctx, cancel := p.dialContext(ctx)
	defer cancel()
	c, err := p.env.dial(ctx)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(c, p.tlsCfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return &watchedConn{Conn: tc, dead: p.env.idleClosed}, nil
}

// dialContext bounds a dial by the check's timeout and the prober's life.
func (p *httpProber) dialContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, p.env.spec.Timeout.D())
	stop := context.AfterFunc(p.life, cancel)
	return ctx, func() { stop(); cancel() }
}

func (p *httpProber) probe(run context.Context) result {
	spec := &p.env.spec
	ctx, cancel := context.WithTimeout(run, spec.Timeout.D())
	defer cancel()
	start := time.Now() // the RTT is network time: on the system clock, never Options.Clock
	req, err := http.NewRequestWithContext(ctx, p.method, p.url, nil)
	if err != nil {
		return softFailure("bad request %s %s: %v", p.method, p.url, err)
	}
	req.Header = p.header // never modified by the client or transport
	req.Host = p.host
	resp, err := p.client.Do(req)
	if err != nil {
		return p.env.failure(err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxBody)
	if !spec.StatusMatches(resp.StatusCode) {
		io.Copy(io.Discard, body) // so that the connection can be reused
		return softFailure("status %d, want %s", resp.StatusCode, strings.Join(spec.ExpectStatus, " or "))
	}
	if spec.BodyContains == "" {
		if _, err := io.Copy(io.Discard, body); err != nil {
			return p.env.failure(err)
		}
		return result{ok: true, rtt: time.Since(start)}
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return p.env.failure(err)
	}
	if !bytes.Contains(b, []byte(spec.BodyContains)) {
		return softFailure("body does not contain %q", shorten(spec.BodyContains, 40))
	}
	return result{ok: true, rtt: time.Since(start)}
}

func (p *httpProber) close() {
	p.endLife()
	p.tr.CloseIdleConnections()
}

// shorten cuts s to at most n bytes, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
