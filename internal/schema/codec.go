package schema

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/stratusdns/stratus/internal/model"
)

// RRset values: a version octet, the TTL, the record count, then each
// record's wire RDATA with a 16-bit length. Owner and type are in the key.
const rrsetCodecV1 = 1

// EncodeRRset encodes a set that passed model.CheckNode (whose size bound
// keeps every count within 16 bits).
func EncodeRRset(s *model.RRset) ([]byte, error) {
	if len(s.Rdata) > 0xFFFF {
		return nil, fmt.Errorf("schema: %s %s has %d records, more than can be stored", s.Name, model.TypeString(s.Type), len(s.Rdata))
	}
	n := 1 + 4 + 2
	for _, r := range s.Rdata {
		if len(r) > 0xFFFF {
			return nil, fmt.Errorf("schema: a %s %s record has %d octets of data, more than can be stored", s.Name, model.TypeString(s.Type), len(r))
		}
		n += 2 + len(r)
	}
	b := make([]byte, 0, n)
	b = append(b, rrsetCodecV1)
	b = binary.BigEndian.AppendUint32(b, s.TTL)
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.Rdata)))
	for _, r := range s.Rdata {
		b = binary.BigEndian.AppendUint16(b, uint16(len(r)))
		b = append(b, r...)
	}
	return b, nil
}

var errCorruptRRset = errors.New("not an RRset value")

// DecodeRRset decodes the value stored under key, the RRset k, copying
// the record data.
func DecodeRRset(key string, k model.Key, b []byte) (*model.RRset, error) {
	ttl, count, records, err := RRsetRecords(key, b)
	if err != nil {
		return nil, err
	}
	s := &model.RRset{Name: k.Name, Type: k.Type, TTL: ttl}
	// One allocation for all of the set's data.
	data := append([]byte(nil), records...)
	s.Rdata = make([][]byte, 0, count)
	for range count {
		l := int(binary.BigEndian.Uint16(data))
		s.Rdata = append(s.Rdata, data[2:2+l:2+l])
		data = data[2+l:]
	}
	return s, nil
}

// RRsetRecords checks the value stored under key and returns its TTL, its
// record count and its records, each a 16-bit length and RDATA (the form
// zone.Builder.SetRRsetWire takes), without copying them.
func RRsetRecords(key string, b []byte) (ttl uint32, count int, records []byte, err error) {
	if len(b) < 7 || b[0] != rrsetCodecV1 {
		return 0, 0, nil, Corrupt(key, errCorruptRRset)
	}
	ttl = binary.BigEndian.Uint32(b[1:])
	count = int(binary.BigEndian.Uint16(b[5:]))
	records = b[7:]
	rest := records
	for range count {
		if len(rest) < 2 {
			return 0, 0, nil, Corrupt(key, errCorruptRRset)
		}
		l := int(binary.BigEndian.Uint16(rest))
		if len(rest) < 2+l {
			return 0, 0, nil, Corrupt(key, errCorruptRRset)
		}
		rest = rest[2+l:]
	}
	if len(rest) != 0 {
		return 0, 0, nil, Corrupt(key, errCorruptRRset)
	}
	return ttl, count, records, nil
}

// EncodeSteered encodes a steered answer ("steered/..."): as an RRset.
func EncodeSteered(s *model.RRset) ([]byte, error) { return EncodeRRset(s) }

// DecodeSteered decodes the steered answer stored under key, the RRset k.
func DecodeSteered(key string, k model.Key, b []byte) (*model.RRset, error) {
	return DecodeRRset(key, k, b)
}
