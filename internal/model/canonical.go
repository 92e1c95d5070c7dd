package model

import (
	"bytes"
	"strings"
)

// CompareCanonical orders names in DNS canonical order (RFC 4034 section
// 6.1): by labels compared right to left, each label as lowercase octets.
// Both names must be canonical.
func CompareCanonical(a, b Name) int {
	if a == b {
		return 0
	}
	la := labelsOf(a)
	lb := labelsOf(b)
	for i := 1; i <= len(la) && i <= len(lb); i++ {
		if c := bytes.Compare(la[len(la)-i], lb[len(lb)-i]); c != 0 {
			return c
		}
	}
	switch {
	case len(la) < len(lb):
		return -1
	case len(la) > len(lb):
		return 1
	}
	return 0
}

// labelsOf returns the raw label octets of a name, leftmost first.
func labelsOf(n Name) [][]byte {
	w := n.Wire()
	var out [][]byte
	for i := 0; i < len(w) && w[i] != 0; i += int(w[i]) + 1 {
		out = append(out, w[i+1:i+1+int(w[i])])
	}
	return out
}

// canonicalKey returns a string whose bytewise order is the DNS canonical
// order of names: the labels from right to left, each followed by a 0x00
// separator, with 0x00 and 0x01 octets inside labels escaped so that the
// separator sorts before any label content.
func canonicalKey(n Name) string {
	labels := labelsOf(n)
	var b strings.Builder
	b.Grow(len(n) + 2)
	for i := len(labels) - 1; i >= 0; i-- {
		for _, c := range labels[i] {
			if c <= 1 {
				b.WriteByte(1)
				b.WriteByte(c + 1)
				continue
			}
			b.WriteByte(c)
		}
		b.WriteByte(0)
	}
	return b.String()
}
