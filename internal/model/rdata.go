package model

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// relativeProbe is an origin no real data can contain. Parsing record data
// with it reveals names that were written relative (without a trailing dot),
// which the API refuses because their meaning would depend on the zone.
const relativeProbe = "relative-name.stratus-probe.invalid."

// ParseRdata parses the presentation-format data of one record of type t
// (everything after the type in a zone file line) into uncompressed
// wire-format RDATA. Domain names in the data must be fully qualified.
// Data that miekg/dns accepts but that does not describe a whole record
// (RFC 3597 "\#" data too short for a known type, say) is refused.
func ParseRdata(t Type, data string) ([]byte, error) {
	rd, err := parseRdata(t, data)
	if err != nil {
		return nil, err
	}
	if !RoundTrips(t, rd) {
		return nil, fmt.Errorf("invalid %s data %q", TypeString(t), data)
	}
	return rd, nil
}

// parseRdata is ParseRdata without the round-trip check.
func parseRdata(t Type, data string) ([]byte, error) {
	if err := CheckStorableType(t); err != nil {
		return nil, err
	}
	data = strings.TrimSpace(data)
	if data == "" {
		return nil, errors.New("record data is empty")
	}
	if strings.ContainsAny(data, "\r\n") {
		return nil, errors.New("record data must be on one line")
	}
	if strings.HasPrefix(data, "$") {
		return nil, errors.New("record data must not start with '$'")
	}
	rr, err := parseOne(t, data, "")
	if err != nil {
		if _, err2 := parseOne(t, data, relativeProbe); err2 == nil {
			return nil, fmt.Errorf("domain names in %s data must be fully qualified (end with a dot): %q", TypeString(t), data)
		}
		return nil, InvalidRdata(t, data, err.Error())
	}
	if strings.Contains(rr.String(), relativeProbe) {
		return nil, fmt.Errorf("domain names in %s data must be fully qualified (end with a dot): %q", TypeString(t), data)
	}
	return RdataFromRR(rr)
}

// RoundTrips reports whether rdata of type t reads back the same from the
// text FormatRdata gives it, and so describes a whole record.
func RoundTrips(t Type, rdata []byte) bool {
	text, err := FormatRdata(t, rdata)
	if err != nil {
		return false
	}
	back, err := parseRdata(t, text)
	return err == nil && bytes.Equal(back, rdata)
}

// parseOne parses "<owner> 0 IN <type> <data>" with miekg/dns.
func parseOne(t Type, data, origin string) (dns.RR, error) {
	line := ". 0 IN " + TypeString(t) + " " + data
	zp := dns.NewZoneParser(strings.NewReader(line), origin, "")
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil {
		return nil, cleanParseError(err)
	}
	if !ok || rr == nil {
		return nil, fmt.Errorf("invalid %s data %q", TypeString(t), data)
	}
	if _, more := zp.Next(); more {
		return nil, fmt.Errorf("invalid %s data %q: more than one record", TypeString(t), data)
	}
	if rr.Header().Rrtype != t {
		return nil, fmt.Errorf("invalid %s data %q", TypeString(t), data)
	}
	return rr, nil
}

// badFieldRE matches miekg/dns's "bad <TYPE> <Field>: "token"".
var badFieldRE = regexp.MustCompile(`^bad \S+ (.+): "(.*)"$`)

// numberFields are the numeric fields of record data miekg/dns names, with
// the word for them and their largest value.
var numberFields = map[string]struct {
	word string
	max  int
}{
	"Pref": {"preference", 65535}, "Preference": {"preference", 65535}, "Priority": {"priority", 65535},
	"Weight": {"weight", 65535}, "Port": {"port", 65535}, "Order": {"order", 65535}, "KeyTag": {"key tag", 65535},
	"Flag": {"flags", 255}, "Flags": {"flags", 255}, "Usage": {"usage", 255}, "Selector": {"selector", 255},
	"MatchingType": {"matching type", 255}, "Algorithm": {"algorithm", 255}, "DigestType": {"digest type", 255},
	"Serial": {"serial", 4294967295}, "Refresh": {"refresh", 4294967295}, "Retry": {"retry", 4294967295},
	"Expire": {"expire", 4294967295}, "Minttl": {"minimum TTL", 4294967295},
}

// nameFields are the domain-name fields miekg/dns names.
var nameFields = map[string]bool{"Target": true, "Mx": true, "Ns": true, "Ptr": true, "Replacement": true, "Mbox": true, "Host": true, "Next": true}

// InvalidRdata is the error for record data of type t that miekg/dns
// refused with msg (its message without the "dns: " prefix and the
// position, `bad A A: "999.1.1.1"`): `invalid A record data "999.1.1.1":
// not an IPv4 address`. The API and zone files both say it this way.
func InvalidRdata(t Type, data, msg string) error {
	return fmt.Errorf("invalid %s record data %q: %s", TypeString(t), data, describeParseError(t, msg))
}

// describeParseError says in plain words what miekg/dns found wrong with
// record data of type t.
func describeParseError(t Type, msg string) string {
	if tok, ok := strings.CutPrefix(msg, "garbage after rdata: "); ok {
		return fmt.Sprintf("unexpected %s after the data (one record at a time)", tok)
	}
	m := badFieldRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	field, tok := m[1], m[2]
	switch {
	case t == TypeA && field == "A":
		if strings.Contains(tok, ":") {
			return "not an IPv4 address (an IPv6 address goes in an AAAA record)"
		}
		return "not an IPv4 address"
	case t == TypeAAAA && field == "AAAA":
		if strings.Count(tok, ".") == 3 && !strings.Contains(tok, ":") {
			return "not an IPv6 address (an IPv4 address goes in an A record)"
		}
		return "not an IPv6 address"
	case nameFields[field]:
		return fmt.Sprintf("%q is not a valid domain name", tok)
	case field == "zone parameter":
		return fmt.Sprintf("the serial, refresh, retry, expire and minimum TTL must be numbers, not %q", tok)
	case field == "Txt":
		return "a quoted string is not closed or not valid"
	}
	if f, ok := numberFields[field]; ok {
		return fmt.Sprintf("the %s must be a number from 0 to %d, not %q", f.word, f.max, tok)
	}
	return fmt.Sprintf("the %s field is not valid: %q", strings.ToLower(field), tok)
}

// cleanParseError strips miekg/dns's position suffix, which refers to the
// synthetic line built by parseOne rather than anything the user wrote.
func cleanParseError(err error) error {
	var pe *dns.ParseError
	if errors.As(err, &pe) {
		msg := pe.Error()
		if i := strings.Index(msg, " at line: "); i >= 0 {
			msg = msg[:i]
		}
		msg = strings.TrimPrefix(msg, "dns: ")
		return errors.New(msg)
	}
	return err
}

// RdataFromRR returns the uncompressed wire-format RDATA of rr.
func RdataFromRR(rr dns.RR) ([]byte, error) {
	buf := make([]byte, dns.Len(rr)+16)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("invalid %s record: %v", TypeString(rr.Header().Rrtype), cleanParseError(err))
	}
	hdrEnd := end - int(rr.Header().Rdlength)
	if hdrEnd < 0 {
		return nil, fmt.Errorf("invalid %s record", TypeString(rr.Header().Rrtype))
	}
	out := make([]byte, end-hdrEnd)
	copy(out, buf[hdrEnd:end])
	return out, nil
}

// ToRR rebuilds a miekg/dns RR from an owner, type, TTL and wire RDATA.
func ToRR(owner Name, t Type, ttl uint32, rdata []byte) (dns.RR, error) {
	hdr := dns.RR_Header{Name: string(owner), Rrtype: t, Class: dns.ClassINET, Ttl: ttl, Rdlength: uint16(len(rdata))}
	rr, _, err := dns.UnpackRRWithHeader(hdr, rdata, 0)
	if err != nil {
		return nil, fmt.Errorf("corrupt %s rdata for %s: %v", TypeString(t), owner, err)
	}
	return rr, nil
}

// FormatRdata renders wire RDATA of type t in presentation format (the
// part of a zone-file line after the type): the type's own format as
// miekg/dns writes it, or the RFC 3597 generic form "\# <length> <hex>" for
// types without one (unknown types, NULL), for empty data, and for data
// whose own format would not read back to the same RDATA. The result always
// parses back to rdata.
func FormatRdata(t Type, rdata []byte) (string, error) {
	if len(rdata) == 0 {
		return genericRdata(rdata), nil
	}
	rr, err := ToRR(Root, t, 0, rdata)
	if err != nil {
		return "", err
	}
	switch rr.(type) {
	case *dns.RFC3597, *dns.NULL:
		return genericRdata(rdata), nil
	}
	text, ok := strings.CutPrefix(rr.String(), rr.Header().String())
	if !ok {
		return genericRdata(rdata), nil
	}
	if !textSafe[t] {
		// miekg/dns does not always write what it reads (an SVCB
		// "mandatory" list with an unknown key reads as key 65535 and
		// writes as an empty list), so check; the generic form is exact.
		back, err := parseRdata(t, text)
		if err != nil || !bytes.Equal(back, rdata) {
			return genericRdata(rdata), nil
		}
	}
	return text, nil
}

// textSafe are the types whose presentation format, as miekg/dns writes
// it, reads back to the same RDATA for any RDATA that unpacks; they are
// the bulk of every zone, so FormatRdata skips the check for them.
var textSafe = map[Type]bool{
	dns.TypeA: true, dns.TypeAAAA: true, dns.TypeNS: true, dns.TypeCNAME: true, dns.TypePTR: true,
	dns.TypeMX: true, dns.TypeTXT: true, dns.TypeSOA: true, dns.TypeSRV: true, dns.TypeNAPTR: true,
}

// genericRdata renders RDATA in the RFC 3597 section 5 generic form.
func genericRdata(rdata []byte) string {
	if len(rdata) == 0 {
		return `\# 0`
	}
	return `\# ` + strconv.Itoa(len(rdata)) + " " + hex.EncodeToString(rdata)
}

// FormatRR renders one record as a zone-file line: owner, TTL, class, type
// and data, tab-separated.
func FormatRR(owner Name, t Type, ttl uint32, rdata []byte) (string, error) {
	text, err := FormatRdata(t, rdata)
	if err != nil {
		return "", err
	}
	return string(owner) + "\t" + strconv.FormatUint(uint64(ttl), 10) + "\tIN\t" + TypeString(t) + "\t" + text, nil
}
