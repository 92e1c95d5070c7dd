package zone

// RRset is every record of one type at one node: a TTL and the records'
// wire-format RDATA. It is immutable once in a snapshot.
type RRset struct {
	Type  uint16
	TTL   uint32
	Rdata [][]byte
}

// Node is one owner name in a zone: its record sets, or none at all for an
// empty non-terminal (a name that exists only because names below it do).
// It is immutable once in a snapshot. The nodes of a shard, their sets and
// their data share a few arrays (see namemap.go).
type Node struct {
	name     string  // lowercase wire format
	sets     []RRset // sorted by type, at most one per type
	children int32   // direct child nodes present in the zone
	cut      bool    // NS records below the apex: a delegation point
	steered  bool    // a service answers A, AAAA and CNAME here
}

// Name returns the node's lowercase wire-format name.
func (n *Node) Name() []byte { return []byte(n.name) }

// Get returns the set of type t, or nil.
func (n *Node) Get(t uint16) *RRset {
	for i := range n.sets {
		if n.sets[i].Type == t {
			return &n.sets[i]
		}
	}
	return nil
}

// Sets returns the node's record sets, sorted by type. Do not modify.
func (n *Node) Sets() []RRset { return n.sets }
