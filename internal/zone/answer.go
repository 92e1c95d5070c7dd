package zone

import "github.com/stratusdns/stratus/internal/dnsconst"

// RRRef is one RRset to write into a response section, by reference into
// the snapshot.
type RRRef struct {
	// Owner is the wire-format owner name to write, in the case it should
	// appear; nil means the query name exactly as the client sent it.
	Owner []byte
	Set   *RRset
	TTL   uint32
	// Optional marks glue for a name server outside the delegated zone:
	// it may be left out of a response that does not fit (RFC 9471).
	Optional bool
	// Extra marks additional data (RFC 1034 section 4.3.2 step 6): the
	// addresses of the targets of an NS, MX or SRV answer. It is written
	// only as far as it fits, and what does not fit never truncates the
	// response (RFC 2181 section 9).
	Extra bool
}

// Answer is the result of a lookup: the response code, the AA flag and the
// three sections. Reuse one Answer per worker: Reset keeps the slices'
// capacity so steady-state lookups allocate nothing.
type Answer struct {
	Rcode         int
	Authoritative bool
	Answer        []RRRef
	Authority     []RRRef
	Additional    []RRRef
	// Zone is the zone that answered, nil when none did.
	Zone *Zone
	// Wildcard is the closest encloser (lowercase wire format) when a
	// wildcard stands in for the query name itself, else empty.
	Wildcard string

	req *Request
	// visited holds the steered nodes answered so far, to stop a loop of
	// steered CNAMEs where it repeats.
	visited  [maxChain]*Node
	nvisited int
}

// visit records a steered node and reports whether it was answered before.
func (a *Answer) visit(n *Node) bool {
	for _, v := range a.visited[:a.nvisited] {
		if v == n {
			return true
		}
	}
	if a.nvisited < len(a.visited) {
		a.visited[a.nvisited] = n
		a.nvisited++
	}
	return false
}

// Reset empties a for reuse.
func (a *Answer) Reset() {
	a.Rcode = dnsconst.RcodeSuccess
	a.Authoritative = false
	a.Answer = a.Answer[:0]
	a.Authority = a.Authority[:0]
	a.Additional = a.Additional[:0]
	a.Zone = nil
	a.Wildcard = ""
	a.nvisited = 0
}

// addAddresses puts the A and AAAA sets of g in the additional section
// under the name owner: glue (optional for a name server outside the
// delegated zone) or additional data (extra), which goes in once per set
// and name.
func (a *Answer) addAddresses(g *Node, owner []byte, optional, extra bool) {
	for _, t := range [...]uint16{dnsconst.TypeA, dnsconst.TypeAAAA} {
		s := g.Get(t)
		if s == nil || extra && a.hasAdditional(s, owner) {
			continue
		}
		a.Additional = append(a.Additional, RRRef{Owner: owner, Set: s, TTL: s.TTL, Optional: optional, Extra: extra})
	}
}

// hasAdditional reports whether s is in the additional section already
// under the name owner (a wildcard's set stands in for several names).
func (a *Answer) hasAdditional(s *RRset, owner []byte) bool {
	for _, r := range a.Additional {
		if r.Set == s && EqualNames(r.Owner, owner) {
			return true
		}
	}
	return false
}

func (a *Answer) hasSet(s *RRset) bool {
	for _, r := range a.Answer {
		if r.Set == s {
			return true
		}
	}
	return false
}
