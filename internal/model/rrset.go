package model

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
)

// MaxTTL is the largest TTL a record may carry (RFC 2181 section 8).
const MaxTTL = 1<<31 - 1

// MaxRRsetWireSize bounds the octets an RRset takes in a response (each
// record's compressed owner, type, class, TTL, length and data), so that
// the whole set always fits in one DNS message over TCP (65,535 octets)
// with the header, the question and an OPT record.
const MaxRRsetWireSize = 65000

// WireSize returns the octets the set takes in a response whose owner name
// is compressed to a pointer.
func (s *RRset) WireSize() int {
	n := 0
	for _, r := range s.Rdata {
		n += 2 + 10 + len(r)
	}
	return n
}

// smallSet is the size up to which sets are searched linearly; larger ones
// get a map.
const smallSet = 16

func rdataIndex(rdata [][]byte) map[string]struct{} {
	m := make(map[string]struct{}, len(rdata))
	for _, r := range rdata {
		m[string(r)] = struct{}{}
	}
	return m
}

// RRset is every record of one type at one owner name (RFC 2181 section 5):
// one TTL and a set of distinct RDATA values in wire form, kept in the order
// they were added.
type RRset struct {
	Name  Name
	Type  Type
	TTL   uint32
	Rdata [][]byte
}

// Key identifies an RRset inside a zone.
type Key struct {
	Name Name
	Type Type
}

// Key returns the RRset's key.
func (s *RRset) Key() Key { return Key{s.Name, s.Type} }

// Has reports whether the set already holds rdata.
func (s *RRset) Has(rdata []byte) bool {
	for _, r := range s.Rdata {
		if bytes.Equal(r, rdata) {
			return true
		}
	}
	return false
}

// Add appends rdata unless it is already present and reports whether it
// was added.
func (s *RRset) Add(rdata []byte) bool {
	if s.Has(rdata) {
		return false
	}
	s.Rdata = append(s.Rdata, rdata)
	return true
}

// AddAll adds every record not already present, in linear time.
func (s *RRset) AddAll(rdata [][]byte) {
	if len(s.Rdata)+len(rdata) <= smallSet {
		for _, r := range rdata {
			s.Add(r)
		}
		return
	}
	have := rdataIndex(s.Rdata)
	for _, r := range rdata {
		if _, ok := have[string(r)]; !ok {
			have[string(r)] = struct{}{}
			s.Rdata = append(s.Rdata, r)
		}
	}
}

// RemoveAll removes every listed record that is present, in linear time.
func (s *RRset) RemoveAll(rdata [][]byte) {
	drop := rdataIndex(rdata)
	kept := s.Rdata[:0:0]
	for _, r := range s.Rdata {
		if _, ok := drop[string(r)]; !ok {
			kept = append(kept, r)
		}
	}
	s.Rdata = kept
}

// Clone returns a copy with its own list of records. The records' bytes
// are shared: RDATA is never changed in place (WithSOASerial, say,
// returns new bytes).
func (s *RRset) Clone() *RRset {
	c := *s
	c.Rdata = slices.Clone(s.Rdata)
	return &c
}

// Equal reports whether two sets hold the same TTL and the same records
// (in any order).
func (s *RRset) Equal(o *RRset) bool {
	return s.Name == o.Name && s.Type == o.Type && s.TTL == o.TTL && len(s.Rdata) == len(o.Rdata) && len(s.Diff(o)) == 0
}

// Diff returns the records of s that are not in o (all of them when o is
// nil), in linear time.
func (s *RRset) Diff(o *RRset) [][]byte {
	if o == nil {
		return s.Rdata
	}
	var out [][]byte
	if len(o.Rdata) <= smallSet {
		for _, r := range s.Rdata {
			if !o.Has(r) {
				out = append(out, r)
			}
		}
		return out
	}
	have := rdataIndex(o.Rdata)
	for _, r := range s.Rdata {
		if _, ok := have[string(r)]; !ok {
			out = append(out, r)
		}
	}
	return out
}

// Strings renders every record of the set as a zone-file line.
func (s *RRset) Strings() ([]string, error) {
	out := make([]string, 0, len(s.Rdata))
	for _, r := range s.Rdata {
		line, err := FormatRR(s.Name, s.Type, s.TTL, r)
		if err != nil {
			return nil, err
		}
		out = append(out, line)
	}
	return out, nil
}

// String renders the set for logs and test failures.
func (s *RRset) String() string {
	lines, err := s.Strings()
	if err != nil {
		return fmt.Sprintf("%s %s <%v>", s.Name, TypeString(s.Type), err)
	}
	var b bytes.Buffer
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
	}
	return b.String()
}

// SortRRsets orders sets for output: the apex SOA first, then the apex NS,
// then by owner in DNS canonical order (RFC 4034 section 6.1), then by type.
func SortRRsets(origin Name, sets []*RRset) {
	type keyed struct {
		rank int
		key  string
		set  *RRset
	}
	ks := make([]keyed, len(sets))
	keys := map[Name]string{}
	for i, s := range sets {
		rank := 2
		if s.Name == origin {
			switch s.Type {
			case TypeSOA:
				rank = 0
			case TypeNS:
				rank = 1
			}
		}
		k, ok := keys[s.Name]
		if !ok {
			k = canonicalKey(s.Name)
			keys[s.Name] = k
		}
		ks[i] = keyed{rank, k, s}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		a, b := &ks[i], &ks[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if a.key != b.key {
			return a.key < b.key
		}
		return a.set.Type < b.set.Type
	})
	for i := range ks {
		sets[i] = ks[i].set
	}
}
