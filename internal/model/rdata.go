package model

import (
	"errors"
	"fmt"
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
func ParseRdata(t Type, data string) ([]byte, error) {
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
		return nil, err
	}
	if strings.Contains(rr.String(), relativeProbe) {
		return nil, fmt.Errorf("domain names in %s data must be fully qualified (end with a dot): %q", TypeString(t), data)
	}
	return RdataFromRR(rr)
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
	buf := make([]byte, dns.Len(rr)+256)
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

// FormatRdata renders wire RDATA of type t in presentation format (the part
// of a zone file line after the type).
func FormatRdata(t Type, rdata []byte) (string, error) {
	rr, err := ToRR(Root, t, 0, rdata)
	if err != nil {
		return "", err
	}
	return rdataText(rr), nil
}

// rdataText is rr.String() without the header fields.
func rdataText(rr dns.RR) string {
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// FormatRR renders one record as a zone-file line: owner, TTL, class, type,
// data, tab-separated.
func FormatRR(owner Name, t Type, ttl uint32, rdata []byte) (string, error) {
	rr, err := ToRR(owner, t, ttl, rdata)
	if err != nil {
		return "", err
	}
	return rr.String(), nil
}
