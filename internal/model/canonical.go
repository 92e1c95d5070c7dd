package model

import "bytes"

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
