package model

import (
	"encoding/binary"
	"fmt"
)

// The five 32-bit fields that end every SOA RDATA (RFC 1035 section 3.3.13).
const soaFixedLen = 20

// SOAFields are the numeric fields of an SOA record.
type SOAFields struct {
	Serial, Refresh, Retry, Expire, Minimum uint32
}

// ParseSOAFields reads the numeric fields from SOA wire RDATA.
func ParseSOAFields(rdata []byte) (SOAFields, error) {
	if len(rdata) < soaFixedLen+2 {
		return SOAFields{}, fmt.Errorf("SOA rdata too short (%d octets)", len(rdata))
	}
	f := rdata[len(rdata)-soaFixedLen:]
	return SOAFields{
		Serial:  binary.BigEndian.Uint32(f[0:]),
		Refresh: binary.BigEndian.Uint32(f[4:]),
		Retry:   binary.BigEndian.Uint32(f[8:]),
		Expire:  binary.BigEndian.Uint32(f[12:]),
		Minimum: binary.BigEndian.Uint32(f[16:]),
	}, nil
}

// WithSOASerial returns a copy of SOA wire RDATA with its serial replaced.
func WithSOASerial(rdata []byte, serial uint32) []byte {
	out := append([]byte(nil), rdata...)
	binary.BigEndian.PutUint32(out[len(out)-soaFixedLen:], serial)
	return out
}
