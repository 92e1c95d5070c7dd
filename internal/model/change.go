package model

import (
	"fmt"
	"strings"
)

// Op is what a Change does to an RRset.
type Op string

const (
	// OpAdd adds records to an RRset, creating it if needed. Records already
	// present are left alone (an RRset is a set).
	OpAdd Op = "add"
	// OpSet replaces the whole RRset (TTL and records).
	OpSet Op = "set"
	// OpDelete removes the listed records, or the whole RRset when none are
	// listed.
	OpDelete Op = "delete"
)

// ParseOp validates an operation name.
func ParseOp(s string) (Op, error) {
	switch Op(strings.ToLower(s)) {
	case OpAdd:
		return OpAdd, nil
	case OpSet:
		return OpSet, nil
	case OpDelete:
		return OpDelete, nil
	}
	return "", fmt.Errorf("unknown operation %q (want add, set or delete)", s)
}

// Change is one edit of one RRset. TTL applies when HasTTL is set; without
// it, add and set keep an existing set's TTL, and a new set gets the zone's
// default TTL.
type Change struct {
	Op     Op
	Name   Name
	Type   Type
	TTL    uint32
	HasTTL bool
	Rdata  [][]byte
}

// Apply computes the RRset that results from applying c to cur (nil when
// the set does not exist). It returns nil when the result is empty. The
// input set is not modified.
func (c *Change) Apply(cur *RRset, defaultTTL uint32) (*RRset, error) {
	if c.HasTTL && c.TTL > MaxTTL {
		return nil, Errorf("ttl", "%d is larger than the maximum TTL %d (RFC 2181 section 8)", c.TTL, MaxTTL)
	}
	switch c.Op {
	case OpAdd:
		if len(c.Rdata) == 0 {
			return nil, Errorf("records", "add needs at least one record")
		}
		var next *RRset
		if cur == nil {
			ttl := defaultTTL
			if c.HasTTL {
				ttl = c.TTL
			}
			next = &RRset{Name: c.Name, Type: c.Type, TTL: ttl}
		} else {
			next = cur.Clone()
			if c.HasTTL && c.TTL != cur.TTL {
				return nil, Errorf("ttl", "%d differs from the TTL %d of the existing %s %s records (RFC 2181 section 5.2); use set to change the TTL of the whole set",
					c.TTL, cur.TTL, c.Name, TypeString(c.Type))
			}
		}
		next.AddAll(c.Rdata)
		return next, nil
	case OpSet:
		if len(c.Rdata) == 0 {
			return nil, Errorf("records", "set needs at least one record; use delete to remove an RRset")
		}
		ttl := defaultTTL
		switch {
		case c.HasTTL:
			ttl = c.TTL
		case cur != nil:
			ttl = cur.TTL
		}
		next := &RRset{Name: c.Name, Type: c.Type, TTL: ttl}
		next.AddAll(c.Rdata)
		return next, nil
	case OpDelete:
		if cur == nil {
			return nil, nil
		}
		if len(c.Rdata) == 0 {
			return nil, nil
		}
		next := cur.Clone()
		next.RemoveAll(c.Rdata)
		if len(next.Rdata) == 0 {
			return nil, nil
		}
		return next, nil
	}
	return nil, Errorf("op", "unknown operation %q", c.Op)
}
