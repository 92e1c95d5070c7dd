package secondary

import (
	"errors"
	"fmt"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// sets groups records into RRsets, in order of first appearance; a set
// whose records disagree on the TTL takes the smallest (RFC 2181 5.2).
type sets struct {
	zone  model.Name
	byKey map[model.Key]*model.RRset
	order []*model.RRset
}

func newSets(z model.Name) *sets { return &sets{zone: z, byKey: map[model.Key]*model.RRset{}} }

func (s *sets) add(rr dns.RR) error {
	h := rr.Header()
	if h.Class != dns.ClassINET {
		return fmt.Errorf("record of class %s", dns.ClassToString[h.Class])
	}
	name, err := model.ParseName(h.Name)
	if err != nil {
		return err
	}
	if !name.IsSubdomainOf(s.zone) {
		return fmt.Errorf("%s is not in zone %s", name, s.zone)
	}
	rd, err := model.RdataFromRR(rr)
	if err != nil {
		return err
	}
	k := model.Key{Name: name, Type: model.Type(h.Rrtype)}
	set := s.byKey[k]
	if set == nil {
		set = &model.RRset{Name: name, Type: k.Type, TTL: h.Ttl}
		s.byKey[k] = set
		s.order = append(s.order, set)
	}
	set.TTL = min(set.TTL, h.Ttl)
	set.Add(rd)
	return nil
}

func soaFields(rr dns.RR) (*model.SOAFields, error) {
	rd, err := model.RdataFromRR(rr)
	if err != nil {
		return nil, err
	}
	f, err := model.ParseSOAFields(rd)
	return &f, err
}

// parseFull checks a full transfer (the SOA first and last, everything in
// the zone) and returns its RRsets, SOA included.
func parseFull(z model.Name, rrs []dns.RR) ([]*model.RRset, *model.SOAFields, error) {
	if len(rrs) < 2 {
		return nil, nil, errors.New("too short for a zone transfer")
	}
	first, ok1 := rrs[0].(*dns.SOA)
	last, ok2 := rrs[len(rrs)-1].(*dns.SOA)
	if !ok1 || !ok2 || first.Serial != last.Serial || dns.CanonicalName(first.Hdr.Name) != string(z) {
		return nil, nil, errors.New("the transfer does not begin and end with the zone's SOA")
	}
	s := newSets(z)
	for _, rr := range rrs[:len(rrs)-1] {
		if err := s.add(rr); err != nil {
			return nil, nil, err
		}
	}
	soa, err := soaFields(first)
	return s.order, soa, err
}

// parseIncremental reads the difference sequences of an IXFR (RFC 1995
// section 4): the new SOA, then per change the old SOA and the records
// removed, the new SOA and the records added, and the new SOA again.
func parseIncremental(z model.Name, rrs []dns.RR) ([]control.IXFRDelta, *model.SOAFields, error) {
	head, ok := rrs[0].(*dns.SOA)
	tail, ok2 := rrs[len(rrs)-1].(*dns.SOA)
	if !ok || !ok2 || head.Serial != tail.Serial || len(rrs) < 4 {
		return nil, nil, errors.New("malformed incremental transfer")
	}
	var deltas []control.IXFRDelta
	body := rrs[1 : len(rrs)-1]
	for len(body) > 0 {
		from, ok := body[0].(*dns.SOA)
		if !ok {
			return nil, nil, errors.New("a difference sequence does not begin with a SOA")
		}
		removed, i := newSets(z), 1
		for ; i < len(body); i++ {
			if _, ok := body[i].(*dns.SOA); ok {
				break
			}
			if err := removed.add(body[i]); err != nil {
				return nil, nil, err
			}
		}
		if i == len(body) {
			return nil, nil, errors.New("a difference sequence has no second SOA")
		}
		to := body[i].(*dns.SOA)
		added, j := newSets(z), i+1
		for ; j < len(body); j++ {
			if _, ok := body[j].(*dns.SOA); ok {
				break
			}
			if err := added.add(body[j]); err != nil {
				return nil, nil, err
			}
		}
		toSet := newSets(z)
		if err := toSet.add(to); err != nil {
			return nil, nil, err
		}
		deltas = append(deltas, control.IXFRDelta{From: from.Serial, To: to.Serial, Removed: removed.order, Added: added.order, SOA: toSet.order[0]})
		body = body[j:]
	}
	for i := 1; i < len(deltas); i++ {
		if deltas[i].From != deltas[i-1].To {
			return nil, nil, fmt.Errorf("difference sequences do not chain (%d then %d)", deltas[i-1].To, deltas[i].From)
		}
	}
	if deltas[len(deltas)-1].To != head.Serial {
		return nil, nil, errors.New("the differences do not end at the new serial")
	}
	soa, err := soaFields(head)
	return deltas, soa, err
}
