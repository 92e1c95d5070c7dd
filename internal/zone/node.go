package zone

// Record types the lookup treats specially.
const (
	typeA     uint16 = 1
	typeNS    uint16 = 2
	typeCNAME uint16 = 5
	typeSOA   uint16 = 6
	typeAAAA  uint16 = 28
	typeDS    uint16 = 43
	typeANY   uint16 = 255
)

// RRset is every record of one type at one node: a TTL and the records'
// wire-format RDATA. It is immutable once in a snapshot.
type RRset struct {
	Type  uint16
	TTL   uint32
	Rdata [][]byte
}

// Node is one owner name in a zone: its record sets, or none at all for an
// empty non-terminal (a name that exists only because names below it do).
// It is immutable once in a snapshot.
type Node struct {
	name     string   // lowercase wire format
	sets     []*RRset // sorted by type, at most one per type
	children int32    // direct child nodes present in the zone
	cut      bool     // NS records below the apex: a delegation point
	steered  bool     // a service answers A, AAAA and CNAME here
}

// Name returns the node's lowercase wire-format name.
func (n *Node) Name() []byte { return []byte(n.name) }

// Get returns the set of type t, or nil.
func (n *Node) Get(t uint16) *RRset {
	for _, s := range n.sets {
		if s.Type == t {
			return s
		}
	}
	return nil
}

// Sets returns the node's record sets, sorted by type. Do not modify.
func (n *Node) Sets() []*RRset { return n.sets }

// withSet returns a copy of n with the set of set.Type replaced by set (or
// removed when set has no records).
func (n *Node) withSet(t uint16, set *RRset, apex bool) *Node {
	c := &Node{name: n.name, children: n.children, steered: n.steered}
	c.sets = make([]*RRset, 0, len(n.sets)+1)
	placed := set == nil || len(set.Rdata) == 0
	for _, s := range n.sets {
		if s.Type == t {
			continue
		}
		if !placed && s.Type > t {
			c.sets = append(c.sets, set)
			placed = true
		}
		c.sets = append(c.sets, s)
	}
	if !placed {
		c.sets = append(c.sets, set)
	}
	c.cut = !apex && c.Get(typeNS) != nil
	return c
}

// empty reports whether nothing keeps n in its zone: no records, no
// children, no steered mark.
func (n *Node) empty() bool { return len(n.sets) == 0 && n.children == 0 && !n.steered }

func (n *Node) withChildren(delta int32) *Node {
	c := *n
	c.children += delta
	return &c
}
