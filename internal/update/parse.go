package update

import (
	"fmt"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// Request is a parsed update.
type Request struct {
	Zone    model.Name
	Prereqs []control.Prereq
	Ops     []control.UpdateOp
}

// Error is a malformed update and the rcode that answers it.
type Error struct {
	Rcode  int
	Reason string
}

func (e *Error) Error() string { return dns.RcodeToString[e.Rcode] + ": " + e.Reason }

func formErr(format string, args ...any) *Error {
	return &Error{Rcode: dns.RcodeFormatError, Reason: fmt.Sprintf(format, args...)}
}

// Parse checks an UPDATE message and returns what it asks for. In an
// update the question section is the zone section, the answer section the
// prerequisites and the authority section the update (RFC 2136 section 2).
func Parse(m *dns.Msg) (*Request, error) {
	if m.Opcode != dns.OpcodeUpdate {
		return nil, formErr("not an UPDATE")
	}
	if len(m.Question) != 1 || m.Question[0].Qtype != dns.TypeSOA || m.Question[0].Qclass != dns.ClassINET {
		return nil, formErr("the zone section must hold one SOA question of class IN")
	}
	z, err := model.ParseName(m.Question[0].Name)
	if err != nil {
		return nil, formErr("zone: %v", err)
	}
	r := &Request{Zone: z}
	if err := r.prereqs(m.Answer); err != nil {
		return nil, err
	}
	if err := r.updates(m.Ns); err != nil {
		return nil, err
	}
	return r, nil
}

// owner parses an owner name, which must be in the zone.
func (r *Request) owner(rr dns.RR) (model.Name, error) {
	n, err := model.ParseName(rr.Header().Name)
	if err != nil {
		return "", formErr("%s: %v", rr.Header().Name, err)
	}
	if !n.IsSubdomainOf(r.Zone) {
		return "", &Error{Rcode: dns.RcodeNotZone, Reason: fmt.Sprintf("%s is not in zone %s", n, r.Zone)}
	}
	return n, nil
}

// isMeta reports the types that name no RRset (RFC 2136 section 3.4.1.2).
func isMeta(t uint16) bool {
	switch t {
	case dns.TypeANY, dns.TypeAXFR, dns.TypeIXFR, dns.TypeMAILA, dns.TypeMAILB, dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY:
		return true
	}
	return false
}

// prereqs reads the prerequisite section (RFC 2136 section 3.2).
func (r *Request) prereqs(rrs []dns.RR) error {
	equals := map[model.Key]*model.RRset{}
	var order []model.Key
	for _, rr := range rrs {
		h := rr.Header()
		name, err := r.owner(rr)
		if err != nil {
			return err
		}
		if h.Ttl != 0 {
			return formErr("prerequisite %s %s has TTL %d, not 0", name, dns.TypeToString[h.Rrtype], h.Ttl)
		}
		switch h.Class {
		case dns.ClassANY, dns.ClassNONE:
			if h.Rdlength != 0 {
				return formErr("prerequisite %s %s of class %s carries data", name, dns.TypeToString[h.Rrtype], dns.ClassToString[h.Class])
			}
			if h.Rrtype != dns.TypeANY && isMeta(h.Rrtype) {
				return formErr("prerequisite on the meta type %s", dns.TypeToString[h.Rrtype])
			}
			kind := map[bool]map[bool]control.PrereqKind{
				true:  {true: control.NameInUse, false: control.RRsetExists},
				false: {true: control.NameNotInUse, false: control.RRsetNotExists},
			}[h.Class == dns.ClassANY][h.Rrtype == dns.TypeANY]
			r.Prereqs = append(r.Prereqs, control.Prereq{Kind: kind, Name: name, Type: model.Type(h.Rrtype)})
		case dns.ClassINET:
			if isMeta(h.Rrtype) {
				return formErr("prerequisite on the meta type %s", dns.TypeToString[h.Rrtype])
			}
			rd, err := model.RdataFromRR(rr)
			if err != nil {
				return formErr("prerequisite %s: %v", name, err)
			}
			k := model.Key{Name: name, Type: model.Type(h.Rrtype)}
			if equals[k] == nil {
				equals[k] = &model.RRset{Name: name, Type: k.Type}
				order = append(order, k)
			}
			equals[k].Add(rd)
		default:
			return formErr("prerequisite of class %s", dns.ClassToString[h.Class])
		}
	}
	for _, k := range order {
		r.Prereqs = append(r.Prereqs, control.Prereq{Kind: control.RRsetEquals, Name: k.Name, Type: k.Type, Set: equals[k]})
	}
	return nil
}

// updates reads the update section (RFC 2136 section 3.4.1, the prescan).
func (r *Request) updates(rrs []dns.RR) error {
	for _, rr := range rrs {
		h := rr.Header()
		name, err := r.owner(rr)
		if err != nil {
			return err
		}
		t := model.Type(h.Rrtype)
		switch h.Class {
		case dns.ClassINET:
			if isMeta(h.Rrtype) {
				return formErr("cannot add a record of the meta type %s", dns.TypeToString[h.Rrtype])
			}
			if h.Ttl > model.MaxTTL {
				return formErr("%s %s: TTL %d is above %d", name, dns.TypeToString[h.Rrtype], h.Ttl, model.MaxTTL)
			}
			rd, err := model.RdataFromRR(rr)
			if err != nil {
				return formErr("%s: %v", name, err)
			}
			r.Ops = append(r.Ops, control.UpdateOp{Kind: control.AddRR, Name: name, Type: t, TTL: h.Ttl, Rdata: rd})
		case dns.ClassANY:
			if h.Ttl != 0 || h.Rdlength != 0 {
				return formErr("delete of %s %s must have TTL 0 and no data", name, dns.TypeToString[h.Rrtype])
			}
			if h.Rrtype == dns.TypeANY {
				r.Ops = append(r.Ops, control.UpdateOp{Kind: control.DeleteName, Name: name})
				continue
			}
			if isMeta(h.Rrtype) {
				return formErr("cannot delete the meta type %s", dns.TypeToString[h.Rrtype])
			}
			r.Ops = append(r.Ops, control.UpdateOp{Kind: control.DeleteRRset, Name: name, Type: t})
		case dns.ClassNONE:
			if h.Ttl != 0 || isMeta(h.Rrtype) {
				return formErr("delete of one %s %s record must have TTL 0 and a data type", name, dns.TypeToString[h.Rrtype])
			}
			rd, err := model.RdataFromRR(rr)
			if err != nil {
				return formErr("%s: %v", name, err)
			}
			r.Ops = append(r.Ops, control.UpdateOp{Kind: control.DeleteRR, Name: name, Type: t, Rdata: rd})
		default:
			return formErr("update record of class %s", dns.ClassToString[h.Class])
		}
	}
	return nil
}
