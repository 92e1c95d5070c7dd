package dnsserver

import (
	"fmt"

	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/dnswire"
)

// edge is what the query path says about the server itself: its cookies,
// and its identity and version for NSID and the CH TXT names. It is made
// once by New and shared, read-only, by every handler.
type edge struct {
	cookies  *cookieJar // nil: cookies are off
	identity []byte     // nil: no NSID, and id.server is REFUSED
	version  []byte     // nil: version.bind is REFUSED
}

// MaxIdentity is the longest identity. Sent as NSID, it must leave every
// error response (a question of up to 255 octets, a cookie) within the 512
// octets any requester accepts over UDP, and error responses are not
// truncated.
const MaxIdentity = 128

func newEdge(c *Config) (*edge, error) {
	j, err := newCookieJar(c.Cookies)
	if err != nil {
		return nil, err
	}
	e := &edge{cookies: j}
	for _, f := range []struct {
		what string
		in   string
		max  int
		out  *[]byte
	}{{"identity", c.Identity, MaxIdentity, &e.identity}, {"version", c.Version, dnswire.MaxTXTString, &e.version}} {
		if len(f.in) > f.max {
			return nil, fmt.Errorf("dns: %s of %d octets, at most %d", f.what, len(f.in), f.max)
		}
		if f.in != "" {
			*f.out = []byte(f.in)
		}
	}
	return e, nil
}

// The CH TXT names a server answers about itself (RFC 4892), in wire
// format.
var (
	nameIDServer      = []byte("\x02id\x06server\x00")
	nameHostnameBind  = []byte("\x08hostname\x04bind\x00")
	nameVersionBind   = []byte("\x07version\x04bind\x00")
	nameVersionServer = []byte("\x07version\x06server\x00")
)

// chaos answers a query of a class other than IN: TXT id.server and
// hostname.bind in class CH with the server's identity, version.bind and
// version.server with its version; REFUSED for everything else, and for
// these names when the identity or version is not set.
func (h *handler) chaos(tcp bool) []byte {
	q := &h.q
	var txt []byte
	if h.edge != nil && q.Qclass == dnsconst.ClassCHAOS && q.Qtype == dnsconst.TypeTXT {
		switch {
		case equalFoldWire(q.Qname, nameIDServer), equalFoldWire(q.Qname, nameHostnameBind):
			txt = h.edge.identity
		case equalFoldWire(q.Qname, nameVersionBind), equalFoldWire(q.Qname, nameVersionServer):
			txt = h.edge.version
		}
	}
	if txt == nil {
		return h.w.Error(q, dnsconst.RcodeRefused)
	}
	limit := dnsconst.MaxMessageSize
	if !tcp {
		limit = h.w.UDPLimit(q)
	}
	return h.w.TXT(q, txt, limit)
}

// equalFoldWire reports whether two wire-format names are equal, ASCII
// letters compared without regard to case.
func equalFoldWire(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
