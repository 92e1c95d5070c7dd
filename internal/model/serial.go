package model

import (
	"fmt"
	"time"
)

// SerialPolicy says how a zone's SOA serial advances on every change.
type SerialPolicy string

const (
	// SerialIncrement adds one per change (RFC 1982 arithmetic, skipping 0).
	SerialIncrement SerialPolicy = "increment"
	// SerialDate uses YYYYMMDDnn: today's date and a two-digit counter,
	// falling back to incrementing once the counter is exhausted or the
	// serial is already ahead of today.
	SerialDate SerialPolicy = "date"
)

// ParseSerialPolicy validates a policy name; "" means SerialIncrement.
func ParseSerialPolicy(s string) (SerialPolicy, error) {
	switch SerialPolicy(s) {
	case "", SerialIncrement:
		return SerialIncrement, nil
	case SerialDate:
		return SerialDate, nil
	}
	return "", fmt.Errorf("unknown serial policy %q (want %q or %q)", s, SerialIncrement, SerialDate)
}

// SerialLess reports whether a precedes b in RFC 1982 serial arithmetic.
func SerialLess(a, b uint32) bool {
	return a != b && int32(b-a) > 0
}

// NextSerial returns the serial that follows cur under policy p at time now.
func NextSerial(p SerialPolicy, cur uint32, now time.Time) uint32 {
	next := increment(cur)
	if p == SerialDate {
		y, m, d := now.UTC().Date()
		today := uint32(y)*1000000 + uint32(m)*10000 + uint32(d)*100
		if SerialLess(cur, today) {
			next = today
		}
	}
	return next
}

// LaterSerial returns whichever of a and b is later in RFC 1982 order, a
// when they are equal or incomparable. An operator or a zone file may move
// a serial forward this way, never back.
func LaterSerial(a, b uint32) uint32 {
	if SerialLess(a, b) {
		return b
	}
	return a
}

func increment(s uint32) uint32 {
	s++
	if s == 0 {
		s = 1
	}
	return s
}
