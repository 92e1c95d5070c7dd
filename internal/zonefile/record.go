package zonefile

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/model"
)

// add validates one record from the miekg/dns parser, read at pos from
// text, and adds it to its RRset.
func (p *parser) add(rr dns.RR, pos position, text []byte) error {
	h := rr.Header()
	name, err := p.owner(h.Name)
	if err != nil {
		return p.errorAt(pos, "%v", err)
	}
	if !name.IsSubdomainOf(p.origin) {
		return p.errorAt(pos, "%s is outside zone %s", name, p.origin)
	}
	if h.Class != dns.ClassINET {
		return p.errorAt(pos, "class %s is not supported: a zone file can hold only IN records", dns.Class(h.Class))
	}
	t := h.Rrtype
	if err := model.CheckStorableType(t); err != nil {
		return p.errorAt(pos, "%v", err)
	}
	if h.Ttl > model.MaxTTL {
		return p.errorAt(pos, "TTL %d is larger than the maximum TTL %d (RFC 2181 section 8)", h.Ttl, model.MaxTTL)
	}
	empty := p.isEmpty(rr)
	if empty && typeIsLast(t, text) {
		return p.errorAt(pos, "%s record for %s has no data", model.TypeString(t), name)
	}
	rdata, err := model.RdataFromRR(rr)
	if err != nil {
		return p.errorAt(pos, "%v", err)
	}
	if (empty || isGeneric(rr, text)) && !model.RoundTrips(t, rdata) {
		// RFC 3597 data for a known type is decoded leniently by
		// miekg/dns: "MX \# 0" leaves the zero value and "SRV \# 4
		// 01000000" a record without port and target, which pack into
		// RDATA that no text describes (and that is not what was given).
		return p.errorAt(pos, "%s record for %s has invalid data", model.TypeString(t), name)
	}
	return p.collect(name, t, h.Ttl, rdata, pos)
}

// owner canonicalises an owner name; consecutive records usually share
// one, so the last result is kept.
func (p *parser) owner(raw string) (model.Name, error) {
	if raw == p.lastRaw && p.lastName != "" {
		return p.lastName, nil
	}
	name, err := model.ParseName(raw)
	if err != nil {
		return "", err
	}
	p.lastRaw, p.lastName = raw, name
	return name, nil
}

// isEmpty reports whether rr holds the zero value of its type. That is
// what miekg/dns returns for a record written without any data after its
// type (it accepts those as RFC 2136 update prerequisites), and the zero
// value of many types still packs into plausible RDATA (an SOA of
// ". . 0 0 0 0 0"). Such records are checked further.
func (p *parser) isEmpty(rr dns.RR) bool {
	h := *rr.Header()
	zero := p.zero[h.Rrtype]
	if zero == nil {
		if newRR, ok := dns.TypeToRR[h.Rrtype]; ok {
			zero = newRR()
		} else {
			zero = &dns.RFC3597{}
		}
		p.zero[h.Rrtype] = zero
	}
	*zero.Header() = h
	return dns.IsDuplicate(rr, zero)
}

// typeIsLast reports whether the last token of a record's text is its
// type, that is whether the record was written without data.
func typeIsLast(t model.Type, text []byte) bool {
	last := lastToken(text)
	return strings.EqualFold(last, model.TypeString(t)) ||
		strings.EqualFold(last, "TYPE"+strconv.Itoa(int(t)))
}

// isGeneric reports whether a record of a type miekg/dns knows was written
// in the RFC 3597 generic form, with a "\#" token.
func isGeneric(rr dns.RR, text []byte) bool {
	if _, unknown := rr.(*dns.RFC3597); unknown {
		return false // kept exactly as given
	}
	generic := false
	tokens(text, func(tok []byte) bool {
		generic = string(tok) == `\#`
		return !generic
	})
	return generic
}

// lastToken returns the last token of zone file text.
func lastToken(text []byte) string {
	var last []byte
	tokens(text, func(tok []byte) bool {
		last = tok
		return true
	})
	return string(last)
}

// tokens calls yield with every token of zone file text, skipping comments
// and parentheses and keeping quoted strings (with their quotes) whole,
// until yield returns false.
func tokens(text []byte, yield func([]byte) bool) {
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == ')':
			i++
			continue
		case c == ';':
			for i < len(text) && text[i] != '\n' {
				i++
			}
			continue
		}
		j := i
		if c == '"' {
			for j++; j < len(text) && text[j] != '"'; j++ {
				if text[j] == '\\' {
					j++
				}
			}
			j++
		} else {
			for ; j < len(text) && !strings.ContainsRune(" \t\r\n();\"", rune(text[j])); j++ {
				if text[j] == '\\' {
					j++
				}
			}
		}
		j = min(j, len(text))
		if !yield(text[i:j]) {
			return
		}
		i = j
	}
}
