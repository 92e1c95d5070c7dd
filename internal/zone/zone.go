package zone

import "github.com/stratusdns/stratus/internal/dnsconst"

// Zone is one zone of a snapshot: its nodes and the values every negative
// answer needs, computed once when the zone is built.
type Zone struct {
	origin  string // lowercase wire format
	originB []byte // the same, as bytes, to write without converting
	name    string // presentation format, for logs and metrics
	labels  int    // labels in origin, the root label included
	slot    int    // see Slot

	nodes  *nameMap
	apex   *Node
	soa    *RRset // nil only while a zone is being created
	negTTL uint32 // min(SOA TTL, SOA MINIMUM), RFC 2308 section 5
	serial uint32
}

// Name returns the zone's name in presentation format.
func (z *Zone) Name() string { return z.name }

// Origin returns the zone's name in lowercase wire format.
func (z *Zone) Origin() []byte { return z.originB }

// Serial returns the zone's SOA serial.
func (z *Zone) Serial() uint32 { return z.serial }

// Len returns the number of nodes, empty non-terminals included.
func (z *Zone) Len() int { return z.nodes.count }

// Node returns the node with the lowercase wire name, or nil.
func (z *Zone) Node(name []byte) *Node { return z.nodes.get(name) }

// Each calls fn for every node, in no particular order.
func (z *Zone) Each(fn func(*Node)) { z.nodes.each(fn) }

// finish recomputes the values derived from the apex.
func (z *Zone) finish() {
	z.apex = z.nodes.get([]byte(z.origin))
	z.soa, z.serial, z.negTTL = nil, 0, 0
	if z.apex == nil {
		return
	}
	if soa := z.apex.Get(dnsconst.TypeSOA); soa != nil && len(soa.Rdata) == 1 && len(soa.Rdata[0]) >= 22 {
		rd := soa.Rdata[0]
		f := rd[len(rd)-20:]
		z.soa = soa
		z.serial = be32(f[0:])
		z.negTTL = min(soa.TTL, be32(f[16:]))
	}
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
