package zone

import "github.com/stratusdns/stratus/internal/dnsconst"

// maxChain bounds the CNAME records one answer follows.
const maxChain = 8

// Lookup answers the question (qname, qtype) from the snapshot into a,
// following RFC 1034 section 4.3.2. qname is the wire-format name as the
// client sent it (any case); it must be well formed. Lookup allocates
// nothing once a's slices have grown to their working size. Steered names
// are answered SERVFAIL: use LookupFor to answer them.
func (s *Snapshot) Lookup(a *Answer, qname []byte, qtype uint16) {
	s.LookupFor(a, qname, qtype, nil)
}

// LookupFor is Lookup for a client, answering steered names through
// r.Steering.
func (s *Snapshot) LookupFor(a *Answer, qname []byte, qtype uint16, r *Request) {
	a.Reset()
	a.req = r
	if r != nil {
		r.Client.Begin()
	}
	var lbuf [256]byte
	lname := LowerName(&lbuf, qname)
	z := s.findZone(lname, qtype)
	if z == nil {
		a.Rcode = dnsconst.RcodeRefused
		return
	}
	a.Authoritative = true
	a.Zone = z
	z.resolve(s, a, qname, lname, qtype, nil, 0)
}

// resolve answers (name, qtype) inside z. name is the name in the case to
// write, lname the same name in lower case; owner is what to write as the
// owner of records at name (nil for the query name itself). depth counts the
// CNAME records followed so far.
func (z *Zone) resolve(s *Snapshot, a *Answer, name, lname []byte, qtype uint16, owner []byte, depth int) {
	if z.soa == nil {
		a.Rcode = dnsconst.RcodeServFail
		return
	}
	var offs [maxLabels]uint8
	nl := labelOffsets(lname, &offs)
	if nl < z.labels {
		a.Rcode = dnsconst.RcodeServFail
		return
	}
	// Walk down from the apex, one label at a time, to the deepest existing
	// node: the name itself or its closest encloser (RFC 4592 section 3.3.1).
	// A delegation on the way ends the walk with a referral.
	encloser := z.apex
	i := nl - z.labels - 1
	for ; i >= 0; i-- {
		n := z.nodes.get(lname[offs[i]:])
		if n == nil {
			break
		}
		encloser = n
		if n.cut && !(i == 0 && qtype == dnsconst.TypeDS) {
			z.referral(a, n, name[offs[i]:], depth)
			return
		}
	}
	if i < 0 {
		z.answerNode(s, a, encloser, owner, qtype, depth)
		return
	}
	if wc := z.wildcardOf(encloser); wc != nil {
		if depth == 0 {
			a.Wildcard = encloser.name
		}
		z.answerNode(s, a, wc, owner, qtype, depth)
		return
	}
	a.Rcode = dnsconst.RcodeNXDomain
	z.addSOA(a)
}

// wildcardOf returns the node "*.<encloser>" (RFC 4592 source of
// synthesis), or nil.
func (z *Zone) wildcardOf(encloser *Node) *Node {
	if len(encloser.name)+2 > dnsconst.MaxNameLen {
		return nil
	}
	var buf [256]byte
	buf[0], buf[1] = 1, '*'
	n := copy(buf[2:], encloser.name)
	return z.nodes.get(buf[:n+2])
}

// answerNode answers from an existing node (or a wildcard standing in for
// the query name): the data of qtype, a CNAME to follow, or NODATA.
func (z *Zone) answerNode(s *Snapshot, a *Answer, n *Node, owner []byte, qtype uint16, depth int) {
	if n.steered {
		switch qtype {
		case dnsconst.TypeA, dnsconst.TypeAAAA, dnsconst.TypeCNAME, dnsconst.TypeANY:
			if z.steer(s, a, n, owner, qtype, depth) {
				return
			}
		}
	}
	if qtype == dnsconst.TypeANY {
		// RFC 8482 section 4.2: answer ANY with one RRset of the node.
		if len(n.sets) == 0 {
			z.addSOA(a)
			return
		}
		set := n.Get(dnsconst.TypeCNAME)
		if set == nil {
			set = &n.sets[0]
		}
		a.Answer = append(a.Answer, RRRef{Owner: owner, Set: set, TTL: set.TTL})
		z.addTargets(a, set)
		return
	}
	if qtype != dnsconst.TypeCNAME {
		if cname := n.Get(dnsconst.TypeCNAME); cname != nil {
			if a.hasSet(cname) {
				return // a CNAME loop: stop where it repeats
			}
			a.Answer = append(a.Answer, RRRef{Owner: owner, Set: cname, TTL: cname.TTL})
			z.chase(s, a, cname.Rdata[0], qtype, depth)
			return
		}
	}
	if set := n.Get(qtype); set != nil {
		a.Answer = append(a.Answer, RRRef{Owner: owner, Set: set, TTL: set.TTL})
		z.addTargets(a, set)
		return
	}
	z.addSOA(a)
}

// addTargets puts the A and AAAA sets of the targets of an NS, MX or SRV
// set in the additional section (RFC 1034 section 4.3.2 step 6, RFC 1035
// sections 3.3.9 and 3.3.11, RFC 2782), for the targets in this zone: a
// name of its own (glue below a delegation included, as for a name server
// of the apex) or one a wildcard stands in for. A target that is a CNAME
// or a steered name (its addresses depend on the client) is left to the
// resolver. Each set appears once, marked Extra: the writer leaves out
// what does not fit.
func (z *Zone) addTargets(a *Answer, set *RRset) {
	switch set.Type {
	case dnsconst.TypeNS, dnsconst.TypeMX, dnsconst.TypeSRV:
	default:
		return
	}
	for _, rd := range set.Rdata {
		target := rdataTarget(set.Type, rd)
		if target == nil {
			continue
		}
		var lbuf [256]byte
		lt := LowerName(&lbuf, target)
		if !below(lt, z.origin) {
			continue
		}
		g := z.nodes.get(lt)
		if g == nil {
			g = z.wildcardFor(lt)
		}
		if g == nil || g.steered {
			continue
		}
		a.addAddresses(g, target, false, true)
	}
}

// wildcardFor returns the wildcard that stands in for lname, a name in
// the zone that has no node: "*" below its closest encloser, unless a
// delegation comes first (RFC 4592 section 3.3.1).
func (z *Zone) wildcardFor(lname []byte) *Node {
	var offs [maxLabels]uint8
	nl := labelOffsets(lname, &offs)
	encloser := z.apex
	for i := nl - z.labels - 1; i >= 0; i-- {
		n := z.nodes.get(lname[offs[i]:])
		if n == nil {
			break
		}
		if n.cut {
			return nil
		}
		encloser = n
	}
	if encloser == nil {
		return nil
	}
	return z.wildcardOf(encloser)
}

// rdataTarget returns the uncompressed wire name an NS, MX or SRV record
// points at, or nil when the data does not end in exactly one name.
func rdataTarget(t uint16, rd []byte) []byte {
	switch t {
	case dnsconst.TypeMX:
		rd = rd[min(2, len(rd)):]
	case dnsconst.TypeSRV:
		rd = rd[min(6, len(rd)):] // priority, weight, port
	}
	if len(rd) == 0 || WireNameLen(rd) != len(rd) {
		return nil
	}
	return rd
}

// steer answers A, AAAA, CNAME or ANY at a steered node from the
// steering state: the chosen addresses, or a CNAME that is then followed.
// It reports false when the steering state does not know the name (it
// was published a moment before or after the zones that mark it): the
// node is then answered from its static data.
func (z *Zone) steer(s *Snapshot, a *Answer, n *Node, owner []byte, qtype uint16, depth int) bool {
	if a.req == nil || a.req.Steering == nil {
		a.Rcode = dnsconst.RcodeServFail
		return true
	}
	if a.visit(n) {
		return true // a loop of steered CNAMEs: stop where it repeats
	}
	set, rcode := a.req.Steering.Steer(n.name, qtype, &a.req.Client)
	switch {
	case rcode == NotSteered:
		return false
	case rcode != dnsconst.RcodeSuccess:
		a.Rcode = rcode
	case set == nil || len(set.Rdata) == 0:
		z.addSOA(a)
	case set.Type == dnsconst.TypeCNAME && qtype != dnsconst.TypeCNAME && qtype != dnsconst.TypeANY:
		a.Answer = append(a.Answer, RRRef{Owner: owner, Set: set, TTL: set.TTL})
		z.chase(s, a, set.Rdata[0], qtype, depth)
	default:
		a.Answer = append(a.Answer, RRRef{Owner: owner, Set: set, TTL: set.TTL})
	}
	return true
}

// chase follows a CNAME target inside the zones of the snapshot (RFC 1034
// section 4.3.2 step 3a). The final response code is that of the last name
// looked up (RFC 6604 section 3); AA stays as set for the query name.
func (z *Zone) chase(s *Snapshot, a *Answer, target []byte, qtype uint16, depth int) {
	if depth+1 >= maxChain || WireNameLen(target) != len(target) {
		return
	}
	var lbuf [256]byte
	lt := LowerName(&lbuf, target)
	tz := s.findZone(lt, qtype)
	if tz == nil {
		return // outside our zones: the resolver follows it
	}
	tz.resolve(s, a, target, lt, qtype, target, depth+1)
}

// referral answers with the delegation at cut: its NS records in the
// authority section and the glue addresses this zone holds for them in the
// additional section. Only a referral for the query name itself clears AA.
func (z *Zone) referral(a *Answer, cut *Node, owner []byte, depth int) {
	if depth == 0 {
		a.Authoritative = false
	}
	ns := cut.Get(dnsconst.TypeNS)
	a.Authority = append(a.Authority, RRRef{Owner: owner, Set: ns, TTL: ns.TTL})
	for _, target := range ns.Rdata {
		var lbuf [256]byte
		lt := LowerName(&lbuf, target)
		if !below(lt, z.origin) {
			continue
		}
		if g := z.nodes.get(lt); g != nil {
			a.addAddresses(g, target, !below(lt, cut.name), false)
		}
	}
}

// holds reports whether the lowercase wire name is at or below the origin.
func (z *Zone) holds(lname []byte) bool { return below(lname, z.origin) }

// below reports whether the lowercase wire name lname is parent or below it.
func below(lname []byte, parent string) bool {
	if len(lname) < len(parent) {
		return false
	}
	off := len(lname) - len(parent)
	if string(lname[off:]) != parent {
		return false
	}
	// The suffix must start at a label boundary.
	for i := 0; i < len(lname); i += int(lname[i]) + 1 {
		if i == off {
			return true
		}
		if lname[i] == 0 {
			break
		}
	}
	return false
}

// addSOA puts the zone's SOA in the authority section with the negative
// caching TTL (RFC 2308 section 3).
func (z *Zone) addSOA(a *Answer) {
	a.Authority = append(a.Authority, RRRef{Owner: z.originB, Set: z.soa, TTL: z.negTTL})
}
