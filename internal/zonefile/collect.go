package zonefile

import (
	"errors"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/internal/model"
)

// dedupMapAt is the RRset size from which duplicates are found with a map
// instead of a scan, so that huge RRsets do not cost quadratic time.
const dedupMapAt = 16

// parser collects the records of one zone file into RRsets.
type parser struct {
	origin model.Name
	t      *tracker

	sets  []*model.RRset                // in first-seen order
	index map[model.Key]int32           // RRset key -> index in sets
	next  []int32                       // index of the next set with the same name, or -1
	nodes map[model.Name]node           // every owner name
	seen  map[int32]map[string]struct{} // RDATA of large sets
	zero  map[model.Type]dns.RR         // the empty record of each type

	trace    func(dns.RR, position) // called for every record, in tests
	first    position               // the first record
	lastRaw  string
	lastName model.Name
}

// node is what the parser keeps per owner name.
type node struct {
	pos         position // the first record with this name
	first, last int32    // its first and last RRset in sets
}

func newParser(origin model.Name) *parser {
	return &parser{
		origin: origin,
		t:      &tracker{},
		index:  make(map[model.Key]int32),
		nodes:  make(map[model.Name]node),
		seen:   make(map[int32]map[string]struct{}),
		zero:   make(map[model.Type]dns.RR),
	}
}

// collect adds one record to its RRset, creating the set if needed.
func (p *parser) collect(name model.Name, t model.Type, ttl uint32, rdata []byte, pos position) error {
	key := model.Key{Name: name, Type: t}
	if i, ok := p.index[key]; ok {
		s := p.sets[i]
		if s.TTL != ttl {
			return p.errorAt(pos, "TTL %d differs from TTL %d of the earlier %s %s records (RFC 2181 section 5.2)",
				ttl, s.TTL, name, model.TypeString(t))
		}
		p.addRdata(i, rdata)
		return nil
	}
	if len(p.sets) == 0 {
		p.first = pos
	}
	i := int32(len(p.sets))
	p.sets = append(p.sets, &model.RRset{Name: name, Type: t, TTL: ttl, Rdata: [][]byte{rdata}})
	p.index[key] = i
	p.next = append(p.next, -1)
	if n, ok := p.nodes[name]; ok {
		p.next[n.last] = i
		n.last = i
		p.nodes[name] = n
	} else {
		p.nodes[name] = node{pos: pos, first: i, last: i}
	}
	return nil
}

// addRdata adds rdata to set i unless it is already there.
func (p *parser) addRdata(i int32, rdata []byte) {
	s := p.sets[i]
	if m := p.seen[i]; m != nil {
		if _, dup := m[string(rdata)]; !dup {
			m[string(rdata)] = struct{}{}
			s.Rdata = append(s.Rdata, rdata)
		}
		return
	}
	if !s.Add(rdata) || len(s.Rdata) < dedupMapAt {
		return
	}
	m := make(map[string]struct{}, 2*len(s.Rdata))
	for _, r := range s.Rdata {
		m[string(r)] = struct{}{}
	}
	p.seen[i] = m
}

// check validates the zone as a whole once every record is read.
func (p *parser) check() error {
	if _, ok := p.nodes[p.origin]; !ok {
		return p.errorAt(p.first, "zone has no SOA record at its apex %s", p.origin)
	}
	var sets []*model.RRset
	for i, s := range p.sets {
		n := p.nodes[s.Name]
		if n.first != int32(i) {
			continue
		}
		sets = sets[:0]
		for j := n.first; j >= 0; j = p.next[j] {
			sets = append(sets, p.sets[j])
		}
		if s.Name == p.origin {
			if !hasType(sets, model.TypeSOA) {
				return p.errorAt(n.pos, "zone has no SOA record at its apex %s", p.origin)
			}
			if !hasType(sets, model.TypeNS) {
				return p.errorAt(n.pos, "zone has no NS records at its apex %s", p.origin)
			}
		}
		if err := model.CheckNode(p.origin, s.Name, sets); err != nil {
			var ve *model.Error
			if errors.As(err, &ve) {
				return p.errorAt(n.pos, "%s", ve.Message)
			}
			return p.errorAt(n.pos, "%v", err)
		}
	}
	return nil
}

func hasType(sets []*model.RRset, t model.Type) bool {
	for _, s := range sets {
		if s.Type == t {
			return true
		}
	}
	return false
}
