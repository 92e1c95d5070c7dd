package model

import "fmt"

// CheckNode validates every RRset at one owner name of zone, as the zone
// would be after a change. sets holds each type at most once.
func CheckNode(zone, name Name, sets []*RRset) error {
	if !name.IsSubdomainOf(zone) {
		return Errorf("name", "%s is not in zone %s", name, zone)
	}
	var hasCNAME, hasNS, hasDS bool
	var other Type
	for _, s := range sets {
		if s.Name != name {
			return fmt.Errorf("model: CheckNode: set %s at %s", s.Name, name)
		}
		if s.TTL > MaxTTL {
			return Errorf("ttl", "%d is larger than the maximum TTL %d (RFC 2181 section 8)", s.TTL, MaxTTL)
		}
		if err := CheckStorableType(s.Type); err != nil {
			return Errorf("type", "%v", err)
		}
		if len(s.Rdata) == 0 {
			return fmt.Errorf("model: CheckNode: empty set %s %s", s.Name, TypeString(s.Type))
		}
		if n := s.WireSize(); n > MaxRRsetWireSize {
			return Errorf("records", "the %s %s records would take %d octets in a response (%d records); at most %d fit in one DNS message",
				name, TypeString(s.Type), n, len(s.Rdata), MaxRRsetWireSize)
		}
		switch s.Type {
		case TypeCNAME:
			hasCNAME = true
			if len(s.Rdata) > 1 {
				return Errorf("records", "%s can have only one CNAME record, not %d (RFC 2181 section 10.1)", name, len(s.Rdata))
			}
		case TypeSOA:
			if name != zone {
				return Errorf("type", "SOA records belong only at the zone apex %s, not at %s", zone, name)
			}
			if len(s.Rdata) > 1 {
				return Errorf("records", "the zone apex can have only one SOA record")
			}
		case TypeNS:
			hasNS = true
			if name.IsWildcard() {
				return Errorf("name", "NS records at a wildcard name (%s) are not allowed (RFC 4592 section 4.2)", name)
			}
		case TypeDS:
			hasDS = true
			if name == zone {
				return Errorf("type", "DS records for %s belong in the parent zone, not at this zone's apex", name)
			}
			if name.IsWildcard() {
				return Errorf("name", "DS records at a wildcard name (%s) are not allowed (RFC 4592 section 4.2)", name)
			}
		}
		if s.Type != TypeCNAME && other == 0 {
			other = s.Type
		}
	}
	if hasCNAME && other != 0 {
		return Errorf("type", "%s has a CNAME record, so it cannot have %s records as well (RFC 1034 section 3.6.2)", name, TypeString(other))
	}
	if hasDS && !hasNS {
		return Errorf("type", "DS records at %s need NS records there: DS belongs only at a delegation point (RFC 4035 section 2.4)", name)
	}
	if name == zone {
		if findType(sets, TypeSOA) == nil {
			return Errorf("type", "the zone apex %s must keep its SOA record", zone)
		}
		if findType(sets, TypeNS) == nil {
			return Errorf("type", "the zone apex %s must keep at least one NS record", zone)
		}
	}
	return nil
}

func findType(sets []*RRset, t Type) *RRset {
	for _, s := range sets {
		if s.Type == t {
			return s
		}
	}
	return nil
}
