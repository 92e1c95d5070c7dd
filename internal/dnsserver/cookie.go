package dnsserver

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/dnswire"
)

// Cookies configures DNS Cookies (RFC 7873) with the interoperable server
// cookies of RFC 9018. The zero value turns them on with a random secret.
type Cookies struct {
	// Off turns cookies off: a COOKIE option is then ignored, as by a
	// server that does not know it (a malformed one is still FORMERR).
	Off bool
	// Secret (16 octets) keys the server cookies. Nodes answering for one
	// address (anycast, or a cluster behind one name) must share it, or a
	// cookie one node made does not verify at another. Empty: a random
	// secret made at start.
	Secret []byte
	// Previous (16 octets, optional) is the secret before the last
	// rollover: cookies it made still verify (RFC 9018 section 5), new
	// ones are made with Secret.
	Previous []byte
	// Now is the clock the cookies' timestamps come from (default
	// time.Now).
	Now func() time.Time
}

// Server cookies of RFC 9018 section 4: version 1, three reserved octets,
// a 32-bit timestamp (seconds, serial number arithmetic) and the 64-bit
// SipHash-2-4 of the client cookie, those eight octets and the client's
// address, keyed with the server secret.
const (
	cookieSecretLen  = 16
	serverCookieLen  = 16
	cookieVersion    = 1
	cookieMaxAge     = 3600 // a server cookie older than an hour is stale
	cookieMaxAhead   = 300  // one more than five minutes ahead is invalid
	cookieRenewAfter = 1800 // a valid one older than half an hour is renewed
)

// cookieJar makes and checks server cookies. It is read-only once made,
// shared by every handler.
type cookieJar struct {
	cur, prev sipKey
	hasPrev   bool
	// random says the secret was made at start, not configured.
	random bool
	now    func() time.Time
}

func newCookieJar(c Cookies) (*cookieJar, error) {
	if c.Off {
		return nil, nil
	}
	j := &cookieJar{now: c.Now}
	if j.now == nil {
		j.now = time.Now
	}
	var secret [cookieSecretLen]byte
	switch len(c.Secret) {
	case 0:
		rand.Read(secret[:])
		j.random = true
	case cookieSecretLen:
		copy(secret[:], c.Secret)
	default:
		return nil, fmt.Errorf("dns: cookie secret of %d octets, want %d", len(c.Secret), cookieSecretLen)
	}
	j.cur = newSipKey(secret)
	switch len(c.Previous) {
	case 0:
	case cookieSecretLen:
		j.prev, j.hasPrev = newSipKey([cookieSecretLen]byte(c.Previous)), true
	default:
		return nil, fmt.Errorf("dns: previous cookie secret of %d octets, want %d", len(c.Previous), cookieSecretLen)
	}
	return j, nil
}

// apply checks the server cookie of q, a query from the address from, and
// makes the server cookie to answer with (RFC 7873 section 5.2). A server
// cookie that is valid sets q.CookieValid; one that is not (stale, from
// another address, made with another secret) is answered like a query with
// a client cookie alone, with a new server cookie (section 5.2.3 allows
// either that or BADCOOKIE over UDP): the client learns the new cookie
// without a round trip more, and nothing it could not have had without a
// cookie is given to it.
func (j *cookieJar) apply(q *dnswire.Query, from netip.Addr) {
	if !q.Cookie {
		return
	}
	now := uint32(j.now().Unix())
	ip := from.Unmap()
	q.SendCookie = true
	sc := q.ServerCookie
	if len(sc) == serverCookieLen && sc[0] == cookieVersion {
		age := int32(now - binary.BigEndian.Uint32(sc[4:8]))
		if age >= -cookieMaxAhead && age <= cookieMaxAge {
			sum := binary.LittleEndian.Uint64(sc[8:])
			switch {
			case cookieHash(j.cur, &q.ClientCookie, sc[:8], ip) == sum:
				q.CookieValid = true
				// Section 4.3: a cookie of this version made less than
				// half an hour ago is good to send back as it is.
				if age <= cookieRenewAfter && sc[1]|sc[2]|sc[3] == 0 {
					copy(q.NewServerCookie[:], sc)
					return
				}
			case j.hasPrev && cookieHash(j.prev, &q.ClientCookie, sc[:8], ip) == sum:
				q.CookieValid = true
			}
		}
	}
	j.make(&q.NewServerCookie, &q.ClientCookie, ip, now)
}

// make writes the server cookie for client cookie cc and address ip at
// time now into out.
func (j *cookieJar) make(out *[serverCookieLen]byte, cc *[8]byte, ip netip.Addr, now uint32) {
	out[0], out[1], out[2], out[3] = cookieVersion, 0, 0, 0
	binary.BigEndian.PutUint32(out[4:8], now)
	binary.LittleEndian.PutUint64(out[8:], cookieHash(j.cur, cc, out[:8], ip))
}

// cookieHash returns the hash of a server cookie (RFC 9018 section 4.4):
// SipHash-2-4 of the client cookie, the cookie's first eight octets
// (version, reserved, timestamp) as sent, and the client's address (4
// octets for IPv4, 16 for IPv6).
func cookieHash(k sipKey, cc *[8]byte, head []byte, ip netip.Addr) uint64 {
	var buf [8 + 8 + 16]byte
	copy(buf[:8], cc[:])
	copy(buf[8:16], head)
	n := 16
	if ip.Is4() {
		a := ip.As4()
		n += copy(buf[16:], a[:])
	} else if ip.Is6() {
		a := ip.As16()
		n += copy(buf[16:], a[:])
	}
	return siphash24(k, buf[:n])
}

// checkCookie checks the cookie of the parsed query h.q, from the address
// from, and sets the cookie to answer with (see cookieJar.apply).
func (h *handler) checkCookie(from netip.Addr) {
	if h.edge != nil && h.edge.cookies != nil {
		h.edge.cookies.apply(&h.q, from)
	}
}

// checkCookieError checks the cookie of a query that ParseQuery found
// malformed, and returns the rcode to answer it with: rcode, but for a
// query asking for a server cookie alone (RFC 7873 section 5.4), NOERROR,
// or BADCOOKIE when the server cookie it sent is not valid.
func (h *handler) checkCookieError(from netip.Addr, rcode int) int {
	h.checkCookie(from)
	q := &h.q
	if !q.CookieQuery || !q.SendCookie {
		return rcode
	}
	if len(q.ServerCookie) > 0 && !q.CookieValid {
		return dnsconst.RcodeBadCookie
	}
	return dnsconst.RcodeSuccess
}
