package zone

import (
	"hash/maphash"
	"sort"

	"github.com/stratusdns/stratus/internal/dnsconst"
)

// Snapshot is every zone the server answers for, at one store revision.
// It is immutable; publish a new one to change anything.
type Snapshot struct {
	revision int64
	zones    map[string]*Zone // by lowercase wire origin
	seed     maphash.Seed
}

// Empty returns a snapshot with no zones at revision 0.
func Empty() *Snapshot {
	return &Snapshot{zones: map[string]*Zone{}, seed: maphash.MakeSeed()}
}

// Revision returns the store revision the snapshot reflects.
func (s *Snapshot) Revision() int64 { return s.revision }

// Zone returns the zone with the lowercase wire origin, or nil.
func (s *Snapshot) Zone(origin []byte) *Zone { return s.zones[string(origin)] }

// Zones returns every zone sorted by presentation name.
func (s *Snapshot) Zones() []*Zone {
	out := make([]*Zone, 0, len(s.zones))
	for _, z := range s.zones {
		out = append(out, z)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// findZone returns the zone that holds lname (lowercase wire): the one with
// the longest origin that is a suffix of lname. A DS query for a zone's
// apex is answered by the parent side of the zone cut (RFC 4035 section
// 3.1.4.1): by the closest enclosing zone we serve when that zone delegates
// the name, otherwise by the zone itself.
func (s *Snapshot) findZone(lname []byte, qtype uint16) *Zone {
	if len(s.zones) == 0 || len(lname) == 0 {
		return nil
	}
	var self *Zone
	for i := 0; i < len(lname); i += int(lname[i]) + 1 {
		if z := s.zones[string(lname[i:])]; z != nil {
			switch {
			case i == 0 && qtype == dnsconst.TypeDS && lname[0] != 0:
				self = z // a DS query at this zone's apex: look for the parent
			case self == nil:
				return z
			default:
				if n := z.nodes.get(lname); n != nil && n.cut {
					return z // the parent delegates the name: its side answers
				}
				return self
			}
		}
		if lname[i] == 0 {
			break
		}
	}
	return self
}
